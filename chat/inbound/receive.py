"""Who is writing by SMS or WhatsApp, and into which chat: a message as the
provider delivered it (chat.channels.providers), stored once.

- The sender's number (E.164, accounts.phones) is matched to the contact
  whose phone it is (``Contact.phone_e164``). Only one contact may have it: a
  number that several contacts share is treated as unknown (an agent links
  the chat to the right one), so nobody is matched into a company by a
  guess.
- A known contact's chat gets its company's queue and its chat permission
  layers (chat.permissions); an unknown number's goes to the default queue
  if chat is on. A number that may not chat (a contact denied chat, a client
  blocked from the console) gets one polite answer a day (a ChannelNotice,
  sent by chat.channels.delivery) and no request. A request made while the
  helpdesk is closed gets the auto-reply that says when it opens
  (chat.auto_replies).
- A number with a chat open on the same channel (waiting or active)
  continues it, and so does a follow-up card it started while the helpdesk
  is closed, as long as it has stayed closed since; otherwise a new
  pre-ticket request starts (chat.services.phone_request: office hours,
  queue and paging as in the portal).
- Each message is stored once: the provider's id is unique, so a webhook
  the provider retries finds what it stored the first time. Files are
  fetched by a task (chat.inbound.media); a type the chat cannot show (a
  location, a sticker) becomes a line that says what arrived.

All work for one number runs under the lock of its PhoneClient row
(chat.phone_clients), so two webhooks at once cannot both start a chat for
it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Contact, User
from accounts.phones import e164, readable
from chat import auto_replies, broadcasts, lifecycle, messages, selectors, services, tasks
from chat.channels.providers.base import InboundMessage
from chat.enqueue import enqueue_on_commit
from chat.inbound import media
from chat.models import (
    AutoReplyKind,
    Channel,
    ChannelNotice,
    ChatSession,
    DeliveryStatus,
    Message,
    MessageKind,
    PendingMedia,
    PhoneClient,
    SessionStatus,
)
from chat.permissions import chat_allowed_for_phone
from chat.phone_clients import phone_client_lock
from officehours import services as officehours

logger = logging.getLogger(__name__)

# The one answer to a number that may not chat (denied, or blocked: its
# words, AutoReply "not_available", do not tell which), at most once per
# NOTICE_QUIET_SECONDS.
NOTICE_QUIET_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Received:
    """What became of one inbound message: the chat it went into (None when
    none did), and whether anything was stored now (False for a replay)."""

    session_id: int | None
    stored: bool


def message_receive(*, channel: str, message: InboundMessage) -> Received:
    number = e164(message.sender)
    if number is None:
        logger.warning(
            "%s message %s from an unreadable number", channel, message.provider_message_id
        )
        return Received(None, False)
    if _already_stored(message):
        return Received(None, False)
    contact = _contact_of(number)
    with transaction.atomic():
        phone = _phone_client(number, profile_name=message.profile_name, contact=contact)
        if _already_stored(message):  # a replay that waited for the lock
            return Received(None, False)
        if channel == Channel.WHATSAPP:
            # WhatsApp's 24-hour window for free text runs from this message
            # (chat.whatsapp_window), whichever chat it goes into.
            PhoneClient.objects.filter(pk=phone.pk).update(whatsapp_received_at=timezone.now())
        session = _chat_to_continue(phone.user, channel)
        continued = session is not None
        if session is None:
            if not chat_allowed_for_phone(contact) or selectors.client_blocked(
                client=phone.user, ip_address=None
            ):
                _notice(phone, channel)
                return Received(None, False)
            session = services.phone_request(
                client=phone.user,
                contact=contact,
                channel=channel,
                address=number,
                subject=_subject(number, channel, contact, message.profile_name),
            )
        _store(session, phone.user, message)
        if not continued and session.status == SessionStatus.ABANDONED:
            # Outside office hours the request is a follow-up card now, as in
            # the portal; the client is told when we open.
            auto_replies.outside_hours_reply(session, now=timezone.now())
        session_id = session.pk
        if continued and channel == Channel.WHATSAPP:
            # The agents' windows learn that the window is open again.
            broadcasts.session_changed(selectors.session_payload_of(session_id))
        media.fetch_later(
            session_id=session_id,
            channel=channel,
            provider_message_id=message.provider_message_id,
            items=message.media,
        )
        return Received(session_id, True)


def _already_stored(message: InboundMessage) -> bool:
    # A message of files only leaves no row of its own: its files are
    # pending (not fetched yet) or in the chat.
    files = [media.media_key(message.provider_message_id, i) for i in range(len(message.media))]
    return (
        Message.objects.filter(
            provider_message_id__in=[message.provider_message_id, *files]
        ).exists()
        or PendingMedia.objects.filter(key__in=files).exists()
    )


def _contact_of(number: str) -> Contact | None:
    """The one contact with this number; None for none, or for several."""
    found = list(Contact.objects.select_related("company").filter(phone_e164=number)[:2])
    return found[0] if len(found) == 1 else None


def _phone_client(number: str, *, profile_name: str, contact: Contact | None) -> PhoneClient:
    """The number's PhoneClient, locked, its user named after the contact,
    the WhatsApp profile or the number."""
    name = contact.name if contact is not None else (profile_name or readable(number))
    return phone_client_lock(number, name=name, profile_name=profile_name)


def _chat_to_continue(user: User, channel: str) -> ChatSession | None:
    """The chat this number's message belongs to, locked, if it has one open."""
    now = timezone.now()
    open_now = Q(status__in=(SessionStatus.WAITING, SessionStatus.ACTIVE))
    if not officehours.is_open(now):
        # The card of a message sent while closed collects the ones after it.
        open_now |= Q(status=SessionStatus.ABANDONED, outside_hours=True)
    found = (
        ChatSession.objects.filter(client=user, channel=channel)
        .filter(open_now)
        .order_by("-requested_at", "-id")
        .values_list("pk", "status", "requested_at")
        .first()
    )
    if found is None:
        return None
    pk, status, requested_at = found
    if status == SessionStatus.ABANDONED and not _closed_since(requested_at, now):
        # A card of an earlier closed time: the helpdesk has been open since,
        # so this is a new request (with its own auto-reply).
        return None
    return lifecycle.lock(pk)


def _closed_since(at: datetime, now: datetime) -> bool:
    """Whether the helpdesk has stayed closed from ``at`` until ``now``."""
    opening = officehours.next_opening(at)
    return opening is None or opening > now


def _subject(number: str, channel: str, contact: Contact | None, profile_name: str) -> str:
    """ "+44 7700 900123 (WhatsApp)", after the name when there is one."""
    label = Channel(channel).label
    where = f"{readable(number)} ({label})"
    name = contact.name if contact is not None else profile_name
    return f"{name}, {where}"[:200] if name else where


def _store(session: ChatSession, author: User, message: InboundMessage) -> None:
    if message.text:
        messages.append(
            session,
            author=author,
            body=message.text[: settings.CHAT_MESSAGE_MAX_CHARS],
            provider_message_id=message.provider_message_id,
        )
    elif message.unshowable:
        messages.append(
            session,
            author=author,
            kind=MessageKind.SYSTEM,
            body=f"{author.display_name} sent {message.unshowable}, which cannot be shown here.",
            provider_message_id=message.provider_message_id,
        )


def _notice(phone: PhoneClient, channel: str) -> None:
    """The one answer to a number that may not chat, unless it had one lately."""
    now = timezone.now()
    quiet = now - timedelta(seconds=NOTICE_QUIET_SECONDS)
    if ChannelNotice.objects.filter(phone_client=phone, created_at__gte=quiet).exists():
        return
    notice = ChannelNotice.objects.create(
        phone_client=phone,
        channel=channel,
        body=auto_replies.auto_reply_text(AutoReplyKind.NOT_AVAILABLE),
        created_at=now,
        delivery_status=DeliveryStatus.QUEUED,
    )
    logger.info("%s from %s: chat not available; one notice sent", channel, phone.number)
    enqueue_on_commit(tasks.deliver_notice, notice.pk)
