"""Template tags for the chat widgets on portal and console pages."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.conf import settings

from chat import selectors
from chat.models import OPEN_STATUSES, Channel, DeliveryStatus, Outcome
from chat.permissions import chat_allowed_for_user
from chat.transcripts import transcript_lines
from chat.visitors.page_views import PAGE_VIEW_STATUSES
from presence.selectors import is_online

register = template.Library()


@register.simple_tag(takes_context=True)
def chat_allowed(context: dict[str, Any]) -> bool:
    """Whether the logged-in client may chat (the permission layers)."""
    request = context.get("request")
    if request is None:
        return False
    # Asked by several widgets on one page; decided once per request.
    if not hasattr(request, "_chat_allowed"):
        request._chat_allowed = chat_allowed_for_user(request.user)
    return request._chat_allowed


@register.simple_tag
def contact_online(ticket: Any) -> bool:
    """Whether the ticket's contact is online in the portal (push chat)."""
    contact = ticket.contact
    user = contact.user if contact is not None else None
    return bool(user and user.is_active and is_online(user=user))


@register.simple_tag(takes_context=True)
def chat_history(context: dict[str, Any], ticket: Any) -> list[dict[str, Any]]:
    """The ticket's chats visible to the viewer, each with its transcript lines."""
    request = context["request"]
    sessions = selectors.sessions_for_ticket(request.user, ticket.pk).prefetch_related(
        "messages__author", "messages__attachment"
    )
    return [{"session": s, "lines": transcript_lines(s)} for s in sessions]


@register.simple_tag(takes_context=True)
def chats_to_join(context: dict[str, Any]) -> list[Any]:
    """The chats an agent started for the logged-in client by email that it
    has not joined (the portal's home offers Join chat on each)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated or not request.user.is_client:
        return []
    return selectors.chats_to_join(request.user)


@register.simple_tag(takes_context=True)
def ticket_chat_open(context: dict[str, Any], ticket: Any) -> bool:
    """Whether the logged-in client has a live chat on this ticket."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return selectors.ticket_chat_open_for(request.user, ticket.pk)


@register.simple_tag
def queue_warning_seconds() -> int:
    """When a queue entry turns red in the session manager (the browser counts)."""
    return int(settings.QUEUE_WARNING_SECONDS)


@register.simple_tag
def chat_block_seconds() -> int:
    """How long the console's Block action blocks a client (said in its dialog)."""
    return int(settings.CHAT_BLOCK_SECONDS)


@register.simple_tag
def inactivity_seconds() -> int:
    """After how long without a message a client may end its chat."""
    return int(settings.INACTIVITY_SECONDS)


# Labels and statuses the scripts need, as JSON for a data-* attribute (the
# pages carry no inline script, not even json_script) rather than copied into
# static/js. Autoescaping makes the JSON a safe attribute value; the browser
# reads it back with static/js/dom.js's dataJson().


@register.simple_tag
def outcome_choices() -> str:
    """The follow-up outcomes as [[value, label], ...] (the console's End session dialog)."""
    return json.dumps([[str(value), str(label)] for value, label in Outcome.choices])


@register.simple_tag
def open_statuses() -> str:
    """The statuses of a live chat, in which staff comment (chat/comments.js, the watch)."""
    return json.dumps([str(status) for status in OPEN_STATUSES])


@register.simple_tag
def page_view_statuses() -> str:
    """The statuses in which the portal reports the client's page views (chat/page_views.js)."""
    return json.dumps([str(status) for status in PAGE_VIEW_STATUSES])


@register.simple_tag
def channel_labels() -> str:
    """{"sms": "SMS", ...}: the badge of an SMS or WhatsApp chat, and how far
    a message sent to one got ({"delivery": {"sent": "Sent", ...}}); read
    by static/js/chat/channels.js."""
    return json.dumps(
        {
            "channels": {str(value): str(label) for value, label in Channel.choices},
            "delivery": {str(value): str(label) for value, label in DeliveryStatus.choices},
        }
    )


@register.inclusion_tag("chat/_channel_badge.html")
def channel_badge(session: Any) -> dict[str, Any]:
    """The SMS / WhatsApp badge of a chat on a server-rendered page (none for
    a portal chat)."""
    return {"session": session}
