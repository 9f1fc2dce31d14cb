"""The lifecycle kernel of a chat: the session lock, the transition table, and
the one way a chat's status changes.

Every status change of a chat goes through :func:`start` (a new session),
:func:`move` (one session, under its lock) or :func:`move_many` (the timer
sweeps' bulk form). Each checks the move against :data:`TRANSITIONS`, applies it
with a conditional UPDATE (``WHERE status = <the status it moves from>``, so
two writers can never both make the same move), records it as a
``SessionEvent`` in the same transaction and writes the chat's system line
through the one message writer (chat.messages). Services check the rules that
make a move allowed for *this* user first and say so in their own words; the
table is the last word on which moves exist at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from chat import messages
from chat.errors import ChatNotFound, InvalidState
from chat.models import ChatSession, Message, SessionEvent, SessionStatus

# The status a session has before it exists: the "from" of its first event.
NEW = ""

S = SessionStatus
# Every legal status move of a chat, and what makes it. A move not listed here
# is refused by move() / move_many() whatever the caller checked.
TRANSITIONS: Mapping[tuple[str, str], str] = {
    (NEW, S.WAITING): "a client asks to chat (post- or pre-ticket)",
    (NEW, S.INVITED): "an agent pushes a chat to a client who is online",
    (NEW, S.ACTIVE): "an agent messages a client who has left (Message customer)",
    (S.INVITED, S.ACTIVE): "the client accepts the pushed chat",
    (S.INVITED, S.DECLINED): "the client declines the pushed chat",
    (S.WAITING, S.ACTIVE): "an agent joins the request, or a supervisor assigns it",
    (S.WAITING, S.ABANDONED): (
        "nobody answers: outside office hours, the client leaves or answers the "
        "no-answer notice with a note or a ticket, or the sweep finds the client gone"
    ),
    (S.WAITING, S.CALLBACK): "the client asks to be called back",
    (S.ACTIVE, S.ENDED): "an agent ends the chat (the client too, after an hour without messages)",
    (S.ABANDONED, S.CLOSED): "an agent closes the follow-up card (End session)",
    (S.CALLBACK, S.CLOSED): "an agent closes the follow-up card (End session)",
}


class IllegalMove(InvalidState):
    """A status change the transition table does not have."""

    code = "invalid_state"


def check_move(old: str, new: str) -> None:
    if (old, new) not in TRANSITIONS:
        raise IllegalMove(f"A chat cannot go from {old or 'nothing'} to {new}.")


def lock(session_id: int, **owned_by: object) -> ChatSession:
    """The session row, locked until the transaction ends (PostgreSQL); on
    SQLite the IMMEDIATE transaction already serializes writers. ``owned_by``
    (e.g. ``client=user``) narrows the row looked up, so a chat that is not
    the caller's is not found, and never locked."""
    try:
        return (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("contact__company", "client", "ticket")
            .get(pk=session_id, **owned_by)
        )
    except ChatSession.DoesNotExist as exc:
        raise ChatNotFound("That chat does not exist.") from exc


def record(
    session: ChatSession,
    *,
    actor: User | None,
    reason: str,
    old: str | None = None,
    new: str | None = None,
    at: datetime | None = None,
) -> SessionEvent:
    """A ``SessionEvent`` row: the audit trail. Without ``old``/``new`` it
    records something that happened without a status change (an agent invited,
    a client blocked): both are the session's status."""
    return SessionEvent.objects.create(
        session=session,
        old_status=session.status if old is None else old,
        new_status=session.status if new is None else new,
        actor=actor,
        reason=reason[:500],
        at=at or timezone.now(),
    )


def start(*, status: str, actor: User | None, reason: str, line: str, **fields: Any) -> ChatSession:
    """Create a session in its first status (``waiting``, ``invited``, or
    ``active`` when an agent reaches out), record the event and write its
    first system line."""
    check_move(NEW, status)
    session = ChatSession.objects.create(status=status, **fields)
    record(session, old=NEW, new=status, actor=actor, reason=reason)
    messages.system_line(session, line)
    return session


class MovedMeanwhile(InvalidState):
    """Another writer changed the chat's status first."""

    code = "invalid_state"


def move(
    session: ChatSession,
    to: str,
    *,
    actor: User | None,
    reason: str,
    changes: Mapping[str, Any] | None = None,
    line: str | None = None,
    line_author: User | None = None,
) -> None:
    """Move ``session`` from its status to ``to``, with ``changes`` to other
    columns in the same UPDATE. The UPDATE is conditional on the status the
    caller read: if another writer moved the chat first, nothing is written
    and MovedMeanwhile is raised (the caller's lock on the session makes that
    a guard, never the normal way)."""
    old = session.status
    check_move(old, to)
    changes = dict(changes or {})
    if not ChatSession.objects.filter(pk=session.pk, status=old).update(status=to, **changes):
        raise MovedMeanwhile("This chat changed meanwhile; look again and retry.")
    session.status = to
    for name, value in changes.items():
        setattr(session, name, value)
    record(session, old=old, new=to, actor=actor, reason=reason)
    if line is not None:
        messages.system_line(session, line, author=line_author)


@dataclass(frozen=True)
class Swept:
    """What one bulk change did: the changed rows (``SWEPT_FIELDS``) and the
    system line written in each (in the same order; none without a line)."""

    rows: list[dict[str, Any]]
    lines: list[Message]

    @property
    def session_ids(self) -> list[int]:
        return [row["pk"] for row in self.rows]


# The columns of each changed row that a sweep reads back (for its lines).
SWEPT_FIELDS = (
    "pk",
    "last_seq",
    "status",
    "channel",
    "client_id",
    "client__full_name",
    "client__email",
)


def move_many(
    sessions: QuerySet[ChatSession],
    *,
    from_status: str,
    to: str | None = None,
    reason: str = "",
    now: datetime,
    changes: Mapping[str, Any] | None = None,
    line_for: Callable[[dict[str, Any]], str] | None = None,
    line_delivery: str = "",
) -> Swept:
    """The timer sweeps' bulk form: one conditional UPDATE of every row of
    ``sessions`` that is still in ``from_status``, whatever their number.

    With ``to`` each row moves (checked against the table) and gets its
    ``SessionEvent``; without it the rows keep their status and only
    ``changes`` are applied (a flag such as ``warned_at``). With ``line_for``
    each row gets a system line, its seq taken in the same UPDATE (with
    ``line_delivery`` ``queued``, a line that a provider sends to the client:
    chat.auto_replies). The rows
    are stamped with a fresh ``sweep_token`` and read back by it: exactly the
    chats *this* run changed, so a second run, or a second beat, changes and
    announces nothing twice."""
    if to is not None:
        check_move(from_status, to)
    token = uuid.uuid4()
    update: dict[str, Any] = {"sweep_token": token, **(changes or {})}
    if to is not None:
        update["status"] = to
    if line_for is not None:
        update.update(messages.seq_for_bulk_lines())
    if not sessions.filter(status=from_status).update(**update):
        return Swept([], [])
    rows = list(ChatSession.objects.filter(sweep_token=token).values(*SWEPT_FIELDS))
    if to is not None:
        SessionEvent.objects.bulk_create(
            SessionEvent(
                session_id=row["pk"], old_status=from_status, new_status=to, reason=reason, at=now
            )
            for row in rows
        )
    lines = (
        messages.bulk_lines(rows, line_for, now, delivery_status=line_delivery)
        if line_for is not None
        else []
    )
    return Swept(rows, lines)
