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


def opened_after(now: datetime) -> datetime:
    """The instant a last message must have come after for the window to be
    open at ``now`` (the SQL of a send compares with it: chat.message_sql)."""
    return now - _length()
