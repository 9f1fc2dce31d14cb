"""The chat timers, run by the one beat task (presence.tasks.sweep) every
SWEEP_SECONDS: 30-s queue warning, 1-min no-answer, abandoning a request whose
client is gone, 1-h inactivity.

On SMS and WhatsApp the client has no page to offer options on: nobody
answering sends it one auto-reply instead (chat.auto_replies) and the request
stays in the queue; after the abandon timer it turns into a follow-up card
like a portal request whose client left (its client never has a portal page
open).

Each sweep is one transaction of bulk statements, whatever the number of due
chats (chat.lifecycle.move_many): a conditional UPDATE of the due rows that
stamps them with a fresh token (and takes each one's next seq for its system
line), the rows read back by that token (exactly the chats *this* run changed,
so a second run, or a second beat, changes and announces nothing twice), bulk
inserts of the system lines and events. The chats are then read once more, as
committed, and announced.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from chat import auto_replies, broadcasts, lifecycle, selectors
from chat.models import Channel, ChatSession, SessionStatus
from presence.models import AgentConnection

NO_ANSWER_LINE = (
    "Nobody is available to answer yet. You can keep waiting, leave a note, "
    "or ask us to call you back."
)
INACTIVE_LINE = "No messages for a while: you may end the chat now."
ABANDONED_LINE = "{name} left before an agent answered."
# SMS and WhatsApp: the client was told we will answer there (chat.auto_replies).
ABANDONED_PHONE_LINE = "Nobody answered {name} in time; the request is a follow-up card now."


def announce_swept(swept: lifecycle.Swept, *, abandoned: bool = False) -> None:
    """Each chat's line and new state to its room, the changed sessions to
    every session manager (chat.broadcasts.sessions_swept)."""
    if swept.rows:
        payloads = selectors.session_payloads_of(swept.session_ids)
        broadcasts.sessions_swept(swept.lines, payloads, abandoned=abandoned)


def announce_warned(swept: lifecycle.Swept) -> None:
    """The red queue entries to every session manager, a toast to the
    available supervisors."""
    if swept.rows:
        broadcasts.queue_warned(
            selectors.session_payloads_of(swept.session_ids),
            supervisor_ids=selectors.available_supervisor_ids(),
        )


def sweep_queue_warning(*, now: datetime | None = None) -> int:
    """Waiting past QUEUE_WARNING_SECONDS: the entry turns red for agents
    (browsers already count it themselves) and available supervisors are told."""
    now = now or timezone.now()
    with transaction.atomic():
        swept = lifecycle.move_many(
            ChatSession.objects.filter(warned_at__isnull=True, warning_due_at__lte=now),
            from_status=SessionStatus.WAITING,
            now=now,
            changes={"warned_at": now},
        )
    announce_warned(swept)
    return len(swept.rows)


def sweep_no_answer(*, now: datetime | None = None) -> int:
    """Unanswered past NO_ANSWER_SECONDS: a portal client is told and offered
    its options (keep waiting, leave a note / create a ticket, callback,
    end); an SMS or WhatsApp client gets one auto-reply and waits on."""
    now = now or timezone.now()
    due = ChatSession.objects.filter(no_answer_at__isnull=True, no_answer_due_at__lte=now)
    with transaction.atomic():
        told = lifecycle.move_many(
            due.filter(channel=Channel.WEB),
            from_status=SessionStatus.WAITING,
            now=now,
            changes={"no_answer_at": now},
            line_for=lambda row: NO_ANSWER_LINE,
        )
        replied = auto_replies.no_answer_replies(due.exclude(channel=Channel.WEB), now=now)
    swept = lifecycle.Swept(told.rows + replied.rows, told.lines + replied.lines)
    announce_swept(swept)
    return len(swept.rows)


def sweep_abandoned(*, now: datetime | None = None) -> int:
    """A request told nobody answered, whose client has had no open portal
    page for the presence grace period, is abandoned: it becomes a follow-up
    card. An SMS or WhatsApp client never has a portal page open: its
    request, told by its auto-reply that we will answer there, becomes a card
    the same time after that reply (nothing more is sent to it)."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.PRESENCE_GRACE_SECONDS)
    connected = AgentConnection.objects.filter(user_id=OuterRef("client_id"))
    with transaction.atomic():
        swept = lifecycle.move_many(
            ChatSession.objects.filter(no_answer_at__lte=now - grace).exclude(Exists(connected)),
            from_status=SessionStatus.WAITING,
            to=SessionStatus.ABANDONED,
            reason="client left without an answer",
            now=now,
            changes={"ended_at": now},
            line_for=_abandoned_line,
        )
    announce_swept(swept, abandoned=True)
    return len(swept.rows)


def _abandoned_line(row: dict[str, object]) -> str:
    line = ABANDONED_LINE if row["channel"] == Channel.WEB else ABANDONED_PHONE_LINE
    return line.format(name=row["client__full_name"] or row["client__email"])


def sweep_inactivity(*, now: datetime | None = None) -> int:
    """No message for INACTIVITY_SECONDS: the client may end the chat too. A
    message moves the deadline in the same row (chat.messages), so one that
    commits first keeps the chat active; one after clears the flag again."""
    now = now or timezone.now()
    with transaction.atomic():
        swept = lifecycle.move_many(
            ChatSession.objects.filter(inactive_at__isnull=True, inactivity_due_at__lte=now),
            from_status=SessionStatus.ACTIVE,
            now=now,
            changes={"inactive_at": now},
            line_for=lambda row: INACTIVE_LINE,
        )
    announce_swept(swept)
    return len(swept.rows)


ALL_SWEEPS = [sweep_queue_warning, sweep_no_answer, sweep_abandoned, sweep_inactivity]


def sweep_all(*, now: datetime | None = None) -> int:
    """Every chat timer once (the benchmark's "one full sweep")."""
    now = now or timezone.now()
    return sum(sweep(now=now) for sweep in ALL_SWEEPS)
