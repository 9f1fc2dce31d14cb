"""The chat timers, run by the one beat task (presence.tasks.sweep) every
SWEEP_SECONDS: 30-s queue warning, 1-min no-answer, abandoning a request whose
client is gone, 1-h inactivity.

Each sweep is one transaction built from bulk statements, whatever the number
of due chats:
1. a conditional UPDATE (``WHERE status=... AND <deadline> <= now AND <not yet
   done>``) that also stamps the rows with a fresh ``sweep_token`` and takes
   the next ``seq`` for a system line;
2. a SELECT of the rows carrying that token: exactly the chats *this* run
   changed, so a second run, or a second beat, changes and announces nothing
   twice;
3. bulk inserts of the system lines (and SessionEvents for status changes);
4. broadcasts after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from chat import events
from chat.models import ChatSession, Message, MessageKind, SessionEvent, SessionStatus
from presence.models import AgentConnection

NO_ANSWER_LINE = (
    "Nobody is available to answer yet. You can keep waiting, leave a note, "
    "or ask us to call you back."
)
INACTIVE_LINE = "No messages for a while: you may end the chat now."
ABANDONED_LINE = "{name} left before an agent answered."


def _flag(sessions: QuerySet[ChatSession], *, system_line: bool, **changes: Any) -> list[dict]:
    """Apply ``changes`` to the due rows; return the rows this run changed."""
    token = uuid.uuid4()
    if system_line:
        changes["last_seq"] = F("last_seq") + 1
    if not sessions.update(sweep_token=token, **changes):
        return []
    return list(
        ChatSession.objects.filter(sweep_token=token).values(
            "pk", "last_seq", "status", "client_id", "client__full_name", "client__email"
        )
    )


def _system_lines(rows: Iterable[dict], body_for: Any, now: datetime) -> list[Message]:
    return Message.objects.bulk_create(
        Message(
            session_id=row["pk"],
            seq=row["last_seq"],
            client_id=uuid.uuid4(),
            author=None,
            kind=MessageKind.SYSTEM,
            body=body_for(row),
            created_at=now,
        )
        for row in rows
    )


def sweep_queue_warning(*, now: datetime | None = None) -> int:
    """Waiting past QUEUE_WARNING_SECONDS: the entry turns red for agents
    (browsers already count it themselves) and available supervisors are told."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = _flag(
            ChatSession.objects.filter(
                status=SessionStatus.WAITING, warned_at__isnull=True, warning_due_at__lte=now
            ),
            system_line=False,
            warned_at=now,
        )
        if rows:
            events.queue_warned([row["pk"] for row in rows])
    return len(rows)


def sweep_no_answer(*, now: datetime | None = None) -> int:
    """Unanswered past NO_ANSWER_SECONDS: the client is told and offered its
    options (keep waiting, leave a note / create a ticket, callback, end)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = _flag(
            ChatSession.objects.filter(
                status=SessionStatus.WAITING, no_answer_at__isnull=True, no_answer_due_at__lte=now
            ),
            system_line=True,
            no_answer_at=now,
        )
        messages = _system_lines(rows, lambda row: NO_ANSWER_LINE, now)
        if rows:
            events.sessions_swept(messages)
    return len(rows)


def sweep_abandoned(*, now: datetime | None = None) -> int:
    """A request told nobody answered, whose client has had no open portal
    page for the presence grace period, is abandoned: it becomes a follow-up card."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.PRESENCE_GRACE_SECONDS)
    connected = AgentConnection.objects.filter(user_id=OuterRef("client_id"))
    with transaction.atomic():
        rows = _flag(
            ChatSession.objects.filter(
                status=SessionStatus.WAITING, no_answer_at__lte=now - grace
            ).exclude(Exists(connected)),
            system_line=True,
            status=SessionStatus.ABANDONED,
            ended_at=now,
        )
        SessionEvent.objects.bulk_create(
            SessionEvent(
                session_id=row["pk"],
                old_status=SessionStatus.WAITING,
                new_status=SessionStatus.ABANDONED,
                reason="client left without an answer",
                at=now,
            )
            for row in rows
        )
        messages = _system_lines(
            rows,
            lambda row: ABANDONED_LINE.format(
                name=row["client__full_name"] or row["client__email"]
            ),
            now,
        )
        if rows:
            events.sessions_swept(messages, abandoned=True)
    return len(rows)


def sweep_inactivity(*, now: datetime | None = None) -> int:
    """No message for INACTIVITY_SECONDS: the client may end the chat too. A
    message moves the deadline in the same row (message_send), so one that
    commits first keeps the chat active; one after clears the flag again."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = _flag(
            ChatSession.objects.filter(
                status=SessionStatus.ACTIVE, inactive_at__isnull=True, inactivity_due_at__lte=now
            ),
            system_line=True,
            inactive_at=now,
        )
        messages = _system_lines(rows, lambda row: INACTIVE_LINE, now)
        if rows:
            events.sessions_swept(messages)
    return len(rows)


ALL_SWEEPS = [sweep_queue_warning, sweep_no_answer, sweep_abandoned, sweep_inactivity]


def sweep_all(*, now: datetime | None = None) -> int:
    """Every chat timer once (the benchmark's "one full sweep")."""
    now = now or timezone.now()
    return sum(sweep(now=now) for sweep in ALL_SWEEPS)
