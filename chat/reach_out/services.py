"""Message customer: the channels offered, and reaching out.

Reaching out is one transaction: the channel checked again under the lock of
what it reaches (the number's PhoneClient row, the ticket's row, or the
portal client's), the agent's capacity checked, the chat started active
with the agent in it (chat.lifecycle.start, the transition ``(new) ->
active``), the first message stored, and, once it commits, its send queued
(a provider's send task, exactly one call; or the email task, which emails
each message once, chat.reach_email) and the agent's console told. What the
agents write after it in an email reach-out is emailed by
chat.reach_out.emails.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.phones import readable
from chat import broadcasts, lifecycle, messages, queues, selectors, tasks, whatsapp_window
from chat.access import require_agent
from chat.capacity import check_capacity
from chat.enqueue import enqueue_on_commit
from chat.errors import InvalidState, MessageInvalid, WindowClosed
from chat.models import (
    Channel,
    ChatKind,
    ChatSession,
    DeliveryStatus,
    Participant,
    ParticipantRole,
    ReachChannel,
    ReachOut,
    SessionStatus,
)
from chat.phone_clients import phone_client_lock
from chat.reach_out.targets import ChannelOption, ReachTarget, channel_options, reach_target
from chat.whatsapp_templates import (
    FilledTemplate,
    approved_templates,
    template_fill,
    template_message_append,
)
from tickets.models import Ticket


def option_payload(option: ChannelOption) -> dict[str, Any]:
    return {
        "channel": option.channel,
        "label": ReachChannel(option.channel).label,
        "address": option.address,
        "available": option.available,
        "reason": option.reason,
        "template_only": option.template_only,
        "window_closes_at": (
            option.window_closes_at.isoformat() if option.window_closes_at else None
        ),
    }


def reach_options(
    *, agent: User, session_id: int | None = None, ticket_id: int | None = None
) -> dict[str, Any]:
    """What the Message customer dialog offers for this closed chat or ticket:
    the client, each channel (offered or why not) and the approved WhatsApp
    templates."""
    target = reach_target(agent=agent, session_id=session_id, ticket_id=ticket_id)
    templates = approved_templates()
    options = channel_options(target, has_templates=bool(templates))
    return {
        "client": {"name": target.name, "company": target.company},
        "subject": target.subject,
        "ticket_id": target.ticket.pk if target.ticket else None,
        "options": [option_payload(option) for option in options],
        "templates": templates,
    }


def reach_out(
    *,
    agent: User,
    channel: str,
    client_id: str | uuid.UUID,
    session_id: int | None = None,
    ticket_id: int | None = None,
    body: str = "",
    template_id: int | None = None,
    values: list[str] | tuple[str, ...] = (),
    site_url: str = "",
) -> ChatSession:
    """Start a chat with the client of the closed chat ``session_id`` or of
    the ticket ``ticket_id`` on ``channel`` (a ReachChannel), the agent in
    it, and send ``body`` (or, on WhatsApp, the template ``template_id``
    filled with ``values``). ``client_id``: the browser's id for this Message
    customer; sent again, it returns the chat it started. ``site_url``: the
    address of the site the agent is on, for the email's link when
    SWITCHBOARD_PUBLIC_URL is not set."""
    require_agent(agent)
    request_key = messages.client_uuid(client_id)
    started = _started(agent, request_key)
    if started is not None:
        return started
    if channel not in ReachChannel.values:
        raise InvalidState("Choose WhatsApp, SMS or email.", code="channel_unavailable")
    first = _first_message(channel, body=body, template_id=template_id, values=list(values))
    target = reach_target(agent=agent, session_id=session_id, ticket_id=ticket_id)
    try:
        with transaction.atomic():
            return _start(agent, target, channel, first, request_key, site_url)
    except IntegrityError:
        # The same Message customer sent twice at once: the other one started it.
        started = _started(agent, request_key)
        if started is None:
            raise
        return started


def _started(agent: User, request_key: uuid.UUID) -> ChatSession | None:
    reach = ReachOut.objects.filter(by=agent, request_key=request_key).first()
    return None if reach is None else selectors.session_by_id(reach.session_id)


def _first_message(
    channel: str, *, body: str, template_id: int | None, values: list[str]
) -> str | FilledTemplate:
    """The free text, or the filled template, checked before anything starts."""
    if template_id is not None:
        if channel != ReachChannel.WHATSAPP:
            raise MessageInvalid("Templates go to WhatsApp only.", code="template_not_here")
        return template_fill(template_id=template_id, values=values)
    text = (body or "").strip()
    if not text:
        raise MessageInvalid("Write the message first.", code="message_empty")
    limit = settings.CHAT_MESSAGE_MAX_CHARS
    if len(text) > limit:
        raise MessageInvalid(
            f"A message may be at most {limit:,} characters.", code="message_too_long"
        )
    return text


def _start(
    agent: User,
    target: ReachTarget,
    channel: str,
    first: str | FilledTemplate,
    request_key: uuid.UUID,
    site_url: str,
) -> ChatSession:
    by_email = channel == ReachChannel.EMAIL
    # Lock what the chat reaches, then look again: a message of the client
    # (its webhook holds the number's lock) or another agent reaching out
    # may have opened a chat meanwhile.
    phone = None
    if by_email and target.ticket is not None:
        list(Ticket.objects.select_for_update().filter(pk=target.ticket.pk).values_list("pk"))
    elif by_email and target.portal_user is not None:
        # No ticket: the client's login is what two Message customers share.
        list(User.objects.select_for_update().filter(pk=target.portal_user.pk).values_list("pk"))
    elif not by_email and target.number:
        phone = phone_client_lock(
            target.number, name=target.contact.name if target.contact else None
        )
    option = next(o for o in channel_options(target, has_templates=True) if o.channel == channel)
    if not option.available:
        raise InvalidState(option.reason, code="channel_unavailable")
    if option.template_only and isinstance(first, str):
        raise WindowClosed(whatsapp_window.CLOSED_MESSAGE)
    check_capacity(agent)
    client = target.portal_user if by_email else phone.user  # type: ignore[union-attr]
    assert client is not None
    now = timezone.now()
    contact = target.contact
    ticket = target.ticket
    session = lifecycle.start(
        status=SessionStatus.ACTIVE,
        actor=agent,
        reason=f"reached out by {ReachChannel(channel).label}",
        line=_first_line(agent, target, channel),
        kind=ChatKind.POST_TICKET if ticket is not None else ChatKind.PRE_TICKET,
        channel=Channel.WEB if by_email else channel,
        ticket=ticket,
        contact=contact,
        client=client,
        queue=queues.queue_for_company(contact.company_id if contact else None),
        subject=(target.subject or f"Message to {target.name}")[:200],
        client_address="" if by_email else target.number,
        requested_at=now,
        answered_at=now,
        last_activity_at=now,
        inactivity_due_at=messages.inactivity_deadline(now),
    )
    Participant.objects.create(
        session=session, user=agent, role=ParticipantRole.AGENT, joined_at=now
    )
    if not by_email:
        # As a chat the number started: its client is in it from the start
        # (a phone has no Join or Leave).
        Participant.objects.create(
            session=session, user=client, role=ParticipantRole.CLIENT, joined_at=now
        )
    _send_first(session, agent, first, by_phone=not by_email)
    ReachOut.objects.create(
        session=session,
        by=agent,
        channel=channel,
        from_session=target.from_session,
        from_ticket=target.from_ticket,
        request_key=request_key,
        portal_url=_portal_url(ticket, site_url) if by_email else "",
        created_at=now,
    )
    broadcasts.session_reached_out(selectors.session_payload_of(session.pk), agent_id=agent.pk)
    if by_email:
        enqueue_on_commit(tasks.email_reach_out, session.pk)
    return session


def _first_line(agent: User, target: ReachTarget, channel: str) -> str:
    if channel == ReachChannel.EMAIL:
        link = f"ticket #{target.ticket.pk}" if target.ticket else "the portal"
        return (
            f"{agent.display_name} messaged {target.name} by email ({target.email}) "
            f"with a link to {link}."
        )
    label = ReachChannel(channel).label
    return f"{agent.display_name} messaged {target.name} on {label} ({readable(target.number)})."


def _send_first(
    session: ChatSession, agent: User, first: str | FilledTemplate, *, by_phone: bool
) -> None:
    if isinstance(first, FilledTemplate):
        template_message_append(session, author=agent, filled=first, client_id=uuid.uuid4())
        return
    message = messages.append(
        session,
        author=agent,
        body=first,
        delivery_status=DeliveryStatus.QUEUED if by_phone else "",
    )
    if by_phone:
        enqueue_on_commit(tasks.deliver_message, message.pk)


def _portal_url(ticket: Ticket | None, site_url: str) -> str:
    """Where the client answers: the ticket's page in the portal, or, for a
    chat without a ticket, the portal's home (it lists the chat)."""
    base = (settings.PUBLIC_URL or site_url).rstrip("/")
    if ticket is None:
        return base + reverse("portal:home")
    return base + reverse("portal:ticket_detail", args=[ticket.pk])
