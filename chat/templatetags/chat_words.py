"""How a chat is named to the person reading about it: the words a client
understands, never the product's internal ones ("Post-ticket", "Abandoned")."""

from __future__ import annotations

from typing import Any

from django import template

from chat.models import ChatKind, SessionStatus

register = template.Library()

# How the chat started, for a client ("you") and for staff ("the client").
_ORIGIN = {
    ChatKind.POST_TICKET: (
        "You asked for it on this ticket",
        "The client asked for it on this ticket",
    ),
    ChatKind.PRE_TICKET: ("This ticket was started from it", "The ticket was started from it"),
    ChatKind.PUSH: ("The helpdesk invited you to it", "An agent invited the client to it"),
}

# How it ended, in plain words (the statuses a chat on a ticket can be in).
_STATE = {
    SessionStatus.INVITED: "Invitation open",
    SessionStatus.WAITING: "Waiting for an agent",
    SessionStatus.ACTIVE: "Going on now",
    SessionStatus.ENDED: "Ended",
    SessionStatus.DECLINED: "Invitation declined",
    SessionStatus.ABANDONED: "Nobody answered in time",
    SessionStatus.CALLBACK: "Call back asked for",
    SessionStatus.CLOSED: "Closed",
}


@register.simple_tag(takes_context=True)
def chat_origin(context: dict[str, Any], session: Any) -> str:
    """How ``session`` started, in words for the viewer of the page."""
    request = context.get("request")
    for_client = bool(request and getattr(request.user, "is_client", False))
    client_words, staff_words = _ORIGIN.get(session.kind, ("", ""))
    return client_words if for_client else staff_words


@register.filter
def chat_state(session: Any) -> str:
    """Where ``session`` is now, in plain words."""
    if session.status == SessionStatus.ABANDONED and session.outside_hours:
        return "Support was closed"
    return _STATE.get(session.status, session.get_status_display())
