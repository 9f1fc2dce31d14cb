"""Who Message customer reaches, and on which channels.

The client is always the one of the chat or the ticket it starts from: the
chat's number and contact, or the ticket's contact. Nothing the agent sends
names an address, so no client of another company is ever reachable through
someone else's chat or ticket.

A channel is offered when it can carry the message and the client can answer
on it:

- WhatsApp and SMS: the channel is switched on (chat.channels.providers) and
  a number is known (the chat's own, else the contact's phone); on WhatsApp
  outside the 24-hour window only a template goes (chat.whatsapp_window), so
  it needs an approved one;
- email: the contact has an address and a portal login (without one it
  could not answer). The email links to the chat's ticket in the portal,
  closed or not (the ticket page offers Join chat for the chat an agent
  started; the ticket stays as it is), or, for a chat without a ticket, to
  the portal's home, which lists the chat with a Join chat button;
- never while the client already has an open chat there (answer it), and
  never to a contact the chat permission layers deny.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from accounts.models import Contact, User
from accounts.phones import readable
from chat import selectors, whatsapp_window
from chat.access import require_agent
from chat.channels.providers import provider_for
from chat.errors import ChatNotFound, InvalidState, MessageInvalid
from chat.models import (
    OPEN_STATUSES,
    Channel,
    ChatSession,
    PhoneClient,
    ReachChannel,
)
from chat.permissions import chat_allowed_for_phone, chat_allowed_for_user
from tickets.models import Ticket

# The order channels are offered in, after the channel of the client's last chat.
ORDER = (ReachChannel.WHATSAPP, ReachChannel.SMS, ReachChannel.EMAIL)
# A chat's channel as a way to reach its client again (a portal client: email).
REACHED_BY = {
    Channel.WHATSAPP: ReachChannel.WHATSAPP,
    Channel.SMS: ReachChannel.SMS,
    Channel.WEB: ReachChannel.EMAIL,
}


@dataclass(frozen=True)
class ReachTarget:
    """The client a Message customer is for, as its chat or ticket knows it."""

    name: str
    company: str | None
    contact: Contact | None
    number: str  # E.164, or "" when none is known
    email: str
    portal_user: User | None  # the contact's active portal login
    ticket: Ticket | None  # what the chat is about (email links to it, else to the portal)
    subject: str
    from_session: ChatSession | None
    from_ticket: Ticket | None
    last_channel: str  # the ReachChannel of the client's last chat, or ""


@dataclass(frozen=True)
class ChannelOption:
    channel: str  # ReachChannel
    address: str  # as the agent reads it
    available: bool
    reason: str = ""  # why not, when not available
    template_only: bool = False  # WhatsApp outside the 24-hour window
    window_closes_at: datetime | None = None


def reach_target(
    *, agent: User, session_id: int | None = None, ticket_id: int | None = None
) -> ReachTarget:
    """The client of the chat ``session_id`` (one the agent may read, and
    over) or of the ticket ``ticket_id``."""
    require_agent(agent)
    if (session_id is None) == (ticket_id is None):
        raise MessageInvalid("Say which chat or which ticket.", code="invalid_source")
    if session_id is not None:
        return _of_session(selectors.session_for(agent, session_id))
    ticket = (
        Ticket.objects.select_related("contact__company", "contact__user", "company")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise ChatNotFound("That ticket does not exist.")
    contact = ticket.contact
    if contact is None:
        raise InvalidState("This ticket has no contact to message.", code="no_contact")
    return ReachTarget(
        name=contact.name,
        company=contact.company.name,
        contact=contact,
        number=contact.phone_e164,
        email=contact.email,
        portal_user=_portal_user(contact),
        ticket=ticket,
        subject=ticket.subject,
        from_session=None,
        from_ticket=ticket,
        last_channel=_last_channel(contact, contact.phone_e164),
    )


def _of_session(session: ChatSession) -> ReachTarget:
    if session.is_open:
        raise InvalidState("This chat is still open: write in it.", code="chat_open")
    contact = session.contact
    number = session.client_address if session.by_phone else (contact.phone_e164 if contact else "")
    ticket = session.ticket
    if ticket is not None and (contact is None or ticket.contact_id != contact.pk):
        ticket = None  # only the contact's own ticket is linked to
    return ReachTarget(
        name=contact.name if contact else session.client.display_name,
        company=contact.company.name if contact else None,
        contact=contact,
        number=number,
        email=contact.email if contact else "",
        portal_user=_portal_user(contact) if contact else None,
        ticket=ticket,
        subject=session.subject or (ticket.subject if ticket else ""),
        from_session=session,
        from_ticket=None,
        last_channel=_last_channel(contact, number),
    )


def _portal_user(contact: Contact) -> User | None:
    user = contact.user if contact.user_id else None
    return user if user is not None and user.is_active and user.is_client else None


def _last_channel(contact: Contact | None, number: str) -> str:
    """How the client last chatted (by its contact, or by its number)."""
    who = Q(contact=contact) if contact is not None else Q(pk__in=[])
    phone_user = PhoneClient.objects.filter(number=number).values_list("user_id", flat=True)
    if number:
        who |= Q(client_id__in=phone_user)
    channel = (
        ChatSession.objects.filter(who)
        .order_by("-requested_at", "-id")
        .values_list("channel", flat=True)
        .first()
    )
    return REACHED_BY.get(channel, "") if channel else ""


def channel_options(target: ReachTarget, *, has_templates: bool) -> list[ChannelOption]:
    """Every channel with whether it is offered (and why not), the channel
    of the client's last chat first."""
    options = [
        _phone_option(target, ReachChannel.WHATSAPP, has_templates=has_templates),
        _phone_option(target, ReachChannel.SMS, has_templates=has_templates),
        _email_option(target),
    ]
    first = target.last_channel
    return sorted(options, key=lambda o: (o.channel != first, ORDER.index(o.channel)))


def _phone_option(target: ReachTarget, channel: str, *, has_templates: bool) -> ChannelOption:
    address = readable(target.number) if target.number else ""
    label = ReachChannel(channel).label

    def refused(reason: str) -> ChannelOption:
        return ChannelOption(channel, address, False, reason)

    if provider_for(channel) is None:
        return refused(f"{label} is not switched on.")
    if not target.number:
        return refused("There is no phone number for this client.")
    if not chat_allowed_for_phone(target.contact):
        return refused("Chat is not allowed for this contact.")
    phone = PhoneClient.objects.filter(number=target.number).first()
    if phone is not None and _open_chat(Q(client_id=phone.user_id, channel=channel)):
        return refused(f"There is already an open chat with this client on {label}: write in it.")
    if channel != ReachChannel.WHATSAPP:
        return ChannelOption(channel, address, True)
    received_at = phone.whatsapp_received_at if phone is not None else None
    closes_at = whatsapp_window.closes_at(received_at)
    if whatsapp_window.is_open(received_at, timezone.now()):
        return ChannelOption(channel, address, True, window_closes_at=closes_at)
    if not has_templates:
        return refused(
            "The 24-hour window has closed and there is no approved template "
            "(Django admin → WhatsApp templates)."
        )
    return ChannelOption(channel, address, True, template_only=True, window_closes_at=closes_at)


def _email_option(target: ReachTarget) -> ChannelOption:
    address = target.email

    def refused(reason: str) -> ChannelOption:
        return ChannelOption(ReachChannel.EMAIL, address, False, reason)

    if not target.email:
        return refused("There is no email address for this client.")
    if target.portal_user is None:
        return refused(
            "The client has no portal login, so it could not answer an email: "
            "use another channel, or give it a login first."
        )
    if not chat_allowed_for_user(target.portal_user):
        return refused("Chat is not allowed for this contact.")
    if target.ticket is not None:
        if _open_chat(Q(client=target.portal_user, ticket=target.ticket)):
            return refused("There is already an open chat on this ticket: write in it.")
    elif _open_chat(Q(client=target.portal_user, ticket__isnull=True, channel=Channel.WEB)):
        return refused("There is already an open portal chat with this client: write in it.")
    return ChannelOption(ReachChannel.EMAIL, address, True)


def _open_chat(where: Q) -> bool:
    # Waiting, active or pushed: the client is in (or asked for) a chat there.
    return ChatSession.objects.filter(where, status__in=OPEN_STATUSES).exists()
