"""The chat window's agent tools that read the log: Copy chat log, and a time
entry on the chat's ticket with the chat's duration and a summary of it.

Only an agent who took part in the chat, or a supervisor, may use them; the
log is the server's transcript format (chat/transcripts.py), the same text
that is attached to the ticket when the chat ends. A time entry's note is not
the log (the transcript is on the ticket already) but one readable line: who,
when, how long, what about.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.time_zones import format_in
from chat import lifecycle, selectors
from chat.access import require_agent
from chat.errors import ChatNotFound, InvalidState
from chat.models import ChatSession, ParticipantRole
from chat.transcripts import transcript_text
from tickets import services as ticket_services
from tickets.errors import TicketError
from tickets.models import TimeEntry

# tickets.services.time_entry_add refuses more: a longer chat is prefilled at the cap.
MAX_MINUTES = 24 * 60


def _check_agent(session: ChatSession, user: User) -> None:
    """A participant agent (in the room or not: time is often logged after
    the end) or a supervisor; anyone else is told the chat does not exist."""
    require_agent(user)
    if user.is_supervisor:
        return
    participant = selectors.participant_of(session, user)
    if participant is None or participant.role != ParticipantRole.AGENT:
        raise ChatNotFound("That chat does not exist.")


def chat_log(*, session_id: int, user: User) -> str:
    """The chat's transcript as plain text, for the clipboard (its times in
    the agent's zone)."""
    session = selectors.session_by_id(session_id)
    _check_agent(session, user)
    return transcript_text(session, reader=user)


def chat_minutes(session: ChatSession, *, now: datetime | None = None) -> int:
    """Whole minutes from the answer to the end (or now), rounded up, at least
    one and at most a day. An unanswered chat counts one minute."""
    if session.answered_at is None:
        return 1
    until = session.ended_at or now or timezone.now()
    seconds = max(0.0, (until - session.answered_at).total_seconds())
    return min(MAX_MINUTES, max(1, math.ceil(seconds / 60)))


@dataclass(frozen=True)
class TimeEntryDraft:
    ticket_id: int
    minutes: int
    note: str


def _require_ticket(session: ChatSession) -> None:
    if session.ticket_id is None:
        raise InvalidState(
            "This chat has no ticket to log time on.",
            code="no_ticket",
        )


def time_entry_draft(*, session_id: int, agent: User) -> TimeEntryDraft:
    """What the Time entry dialog starts with: the chat's duration and its summary."""
    session = selectors.session_by_id(session_id)
    _check_agent(session, agent)
    _require_ticket(session)
    assert session.ticket_id is not None
    now = timezone.now()
    return TimeEntryDraft(
        ticket_id=session.ticket_id,
        minutes=chat_minutes(session, now=now),
        note=chat_summary(session, reader=agent, now=now),
    )


def chat_summary(session: ChatSession, *, reader: User, now: datetime) -> str:
    """One line a person reads at a glance on the ticket's Time card, in
    ``reader``'s zone: "Chat with Alice Turner (Acme) on 7 Dec 2025,
    14:02–14:15 (13 min), answered by Priya Shah. Subject: Printer jams"."""
    company = session.contact.company.name if session.contact else "no company"
    start = session.answered_at or session.requested_at
    end = session.ended_at or now
    day = format_in(start, reader, "DATE_FORMAT")
    end_text = format_in(end, reader, "DATETIME_FORMAT")
    if format_in(end, reader, "DATE_FORMAT") == day:
        end_text = format_in(end, reader, "TIME_FORMAT")
    text = (
        f"Chat with {session.client.display_name} ({company}) on "
        f"{format_in(start, reader)}–{end_text} ({chat_minutes(session, now=now)} min)"
    )
    agents = [
        p.user.display_name
        for p in session.participants.filter(role=ParticipantRole.AGENT)
        .select_related("user")
        .order_by("joined_at", "pk")
    ]
    if agents:
        text += f", answered by {_and_list(agents)}"
    subject = session.subject or (session.ticket.subject if session.ticket else "")
    return f"{text}. Subject: {subject}" if subject else f"{text}."


def _and_list(names: list[str]) -> str:
    """["A", "B", "C"] -> "A, B and C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def chat_time_entry_add(
    *, session_id: int, agent: User, minutes: int, note: str, client_id: str | None = None
) -> TimeEntry:
    """Log ``minutes`` on the chat's ticket with ``note``. Bad minutes are
    refused by the ticket service (``minutes_invalid``) and nothing is written;
    a ``client_id`` sent before returns that entry (see time_entry_add)."""
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise TicketError("Minutes must be a positive whole number.", code="minutes_invalid")
    with transaction.atomic():
        # Locked so the ticket read is the one the chat has now (a pre-ticket
        # chat gets its ticket when it ends).
        session = lifecycle.lock(session_id)
        _check_agent(session, agent)
        _require_ticket(session)
        assert session.ticket is not None
        return ticket_services.time_entry_add(
            ticket=session.ticket, agent=agent, minutes=minutes, note=note, client_id=client_id
        )
