"""WhatsApp's customer service window: free text may go to a WhatsApp client
only within WHATSAPP_WINDOW_SECONDS (24 h) of the client's last WhatsApp
message; outside it only an approved template (chat.models.WhatsAppTemplate)
may, and the provider would refuse anything else.

The window belongs to the number, not to a chat: it runs from
``PhoneClient.whatsapp_received_at``, the moment the number's last WhatsApp
message reached us (chat.inbound.receive), whichever chat it went into. SMS and
portal chats have no window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from chat.models import Channel, ChatSession, PhoneClient

# What an agent is told when free text is refused (the code: window_closed).
CLOSED_MESSAGE = "The 24-hour window has closed: send an approved template"


def _length() -> timedelta:
    return timedelta(seconds=settings.WHATSAPP_WINDOW_SECONDS)


def closes_at(received_at: datetime | None) -> datetime | None:
    """When free text stops being allowed; None when the number never wrote
    on WhatsApp (the window was never open)."""
    return None if received_at is None else received_at + _length()


def is_open(received_at: datetime | None, now: datetime) -> bool:
    return received_at is not None and now < received_at + _length()


def session_closes_at(session: ChatSession) -> datetime | None:
    """A WhatsApp chat: when free text stops being allowed (None: its number
    never wrote, so only templates go). None on every other channel. Reads
    the number's row through the chat's client (select_related
    ``client__phone_client`` for many chats); the hot path of a text send
    asks the same in its own SQL (chat.message_sql)."""
    if session.channel != Channel.WHATSAPP:
        return None
    try:
        received_at = session.client.phone_client.whatsapp_received_at
    except PhoneClient.DoesNotExist:
        return None
    return closes_at(received_at)


def session_is_open(session: ChatSession, now: datetime) -> bool:
    """Whether free text may go into this chat at ``now``: always, unless it
    is a WhatsApp chat outside its number's window."""
    if session.channel != Channel.WHATSAPP:
        return True
    closes = session_closes_at(session)
    return closes is not None and now < closes


def opened_after(now: datetime) -> datetime:
    """The instant a last message must have come after for the window to be
    open at ``now`` (the SQL of a send compares with it: chat.message_sql)."""
    return now - _length()
