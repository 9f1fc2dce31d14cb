"""Watching a live chat: supervisors and administrators only, any live chat
(invited, waiting, active). Watching writes nothing: the watcher is no
Participant, marks nothing read (chat.receipts ignores non-participants) and
cannot send (chat.messages only stores messages of participants in the room).
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from chat import selectors
from chat.access import require_supervisor
from chat.errors import InvalidState
from chat.models import OPEN_STATUSES, ChatSession
from chat.payloads import comment_payload, session_payload
from chat.supervision.comments import comments_of


def _live_session(session_id: int) -> ChatSession:
    session = selectors.session_by_id(session_id)
    if session.status not in OPEN_STATUSES:
        raise InvalidState("That chat is no longer live.", code="chat_not_live")
    return session


def watch_state(*, session_id: int, supervisor: User, after_seq: int = 0) -> dict[str, Any]:
    """What a supervisor sees when it starts watching (or re-syncs after a
    reconnect): the chat, its messages after ``after_seq`` (one page; the
    browser fetches the rest with chat.history) and its comments."""
    require_supervisor(supervisor)
    session = _live_session(session_id)
    return {
        "type": "chat.watching",
        "session": session_payload(session),
        **selectors.replay_page(session, after_seq=after_seq),
        "comments": [comment_payload(c) for c in comments_of(session.pk)],
    }


def watch_keeps_chat_group(*, session_id: int, user: User) -> bool:
    """Whether a socket that stops watching must stay in the chat's group
    because its user is also in the room (a supervisor who joined the chat)."""
    return selectors.is_in_room(session_id, user)
