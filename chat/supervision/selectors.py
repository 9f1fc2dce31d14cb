"""The reads behind the supervisor console: the Chats tab and the live
numbers, the Closed tab, the Tickets tab (requests nobody answered) and a
chat's transcript with its comments."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Case, CharField, Count, F, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import STAFF_ROLES, User
from chat.errors import ChatNotFound
from chat.models import (
    OPEN_STATUSES,
    ChatKind,
    ChatSession,
    Message,
    Participant,
    ParticipantRole,
    SessionStatus,
)
from chat.payloads import session_payload
from chat.supervision.comments import comments_of
from presence.models import PresenceStatus
from tickets.models import TicketStatus

# --- The Chats tab and the live numbers ------------------------------------------------------

LIVE_LIMIT = 500


def _agent_rows() -> list[dict[str, Any]]:
    """Every active staff member with presence and how many live chats it is
    in. One query."""
    now = timezone.now()
    in_chat = Q(
        chat_participations__role=ParticipantRole.AGENT,
        chat_participations__left_at__isnull=True,
        chat_participations__session__status__in=OPEN_STATUSES,
    )
    rows = (
        User.objects.filter(is_active=True, role__in=STAFF_ROLES)
        .annotate(open_chats=Count("chat_participations", filter=in_chat, distinct=True))
        .order_by("full_name", "email")
        .values(
            "pk",
            "full_name",
            "email",
            "role",
            "open_chats",
            "presence__status",
            "presence__offline_deadline",
        )
    )
    agents = []
    for row in rows:
        status = row["presence__status"] or PresenceStatus.OFFLINE
        deadline = row["presence__offline_deadline"]
        # As presence.selectors.available_agents: a grace period that ran out
        # counts as gone even before the sweep flips it.
        available = status == PresenceStatus.AVAILABLE and (deadline is None or deadline > now)
        agents.append(
            {
                "id": row["pk"],
                "name": row["full_name"] or row["email"],
                "role": row["role"],
                "status": status,
                "available": available,
                "open_chats": row["open_chats"],
            }
        )
    return agents


def console_snapshot() -> dict[str, Any]:
    """The Chats tab and the live numbers: the waiting queue (oldest first),
    every open chat with its people, and each staff member with its status
    and chat count. A fixed number of queries whatever the numbers."""
    participants = Prefetch("participants", queryset=Participant.objects.select_related("user"))
    base = ChatSession.objects.select_related("client__phone_client", "contact__company", "ticket")
    waiting = list(
        base.filter(status=SessionStatus.WAITING)
        .prefetch_related(participants)
        .order_by("requested_at", "id")[:LIVE_LIMIT]
    )
    live = list(
        base.filter(status__in=[SessionStatus.ACTIVE, SessionStatus.INVITED])
        .prefetch_related(participants)
        .order_by("requested_at", "id")[:LIVE_LIMIT]
    )
    agents = _agent_rows()
    by_agent: dict[int, list[int]] = {}
    unattended: list[int] = []
    for session in live:
        in_room = [
            p.user_id
            for p in session.participants.all()
            if p.role == ParticipantRole.AGENT and p.left_at is None
        ]
        for user_id in in_room:
            by_agent.setdefault(user_id, []).append(session.pk)
        if not in_room:
            unattended.append(session.pk)
    for agent in agents:
        agent["chat_ids"] = by_agent.get(agent["id"], [])
    return {
        "type": "supervisor.snapshot",
        "now": timezone.now().isoformat(),
        "warning_seconds": settings.QUEUE_WARNING_SECONDS,
        "waiting": [session_payload(s, list(s.participants.all())) for s in waiting],
        "chats": [session_payload(s, list(s.participants.all())) for s in live],
        "agents": agents,
        "unattended": unattended,
    }


# --- Closed tab ------------------------------------------------------------------------------

CLOSED_STATUSES = (SessionStatus.ENDED, SessionStatus.CLOSED)


def closed_chats() -> QuerySet[ChatSession]:
    """Chats an agent answered that are over, most recently ended first."""
    agents = Participant.objects.filter(role=ParticipantRole.AGENT).select_related("user")
    return (
        ChatSession.objects.filter(status__in=CLOSED_STATUSES, answered_at__isnull=False)
        .select_related("client", "contact__company", "ticket", "ended_by")
        .prefetch_related(Prefetch("participants", queryset=agents, to_attr="agent_participants"))
        .annotate(over_at=Coalesce("ended_at", "closed_at", "requested_at"))
        .order_by("-over_at", "-id")
    )


# --- Tickets tab: requests nobody answered ---------------------------------------------------

FOLLOW_UP_STATUSES = (SessionStatus.ABANDONED, SessionStatus.CALLBACK, SessionStatus.CLOSED)
REQUEST_STATES = (TicketStatus.UNASSIGNED, TicketStatus.ASSIGNED, TicketStatus.CLOSED)


def _requests() -> QuerySet[ChatSession]:
    """Requests that arrived outside office hours or that nobody answered
    (abandoned, callbacks, and those cards once closed), each with a
    ``state``: its ticket's status when it has a ticket; otherwise unassigned
    while the follow-up card is open and closed once it is closed."""
    return (
        ChatSession.objects.filter(answered_at__isnull=True, status__in=FOLLOW_UP_STATUSES)
        .exclude(kind=ChatKind.PUSH)
        .annotate(
            state=Case(
                When(ticket__isnull=False, then=F("ticket__status")),
                When(
                    status__in=[SessionStatus.ABANDONED, SessionStatus.CALLBACK],
                    then=Value(TicketStatus.UNASSIGNED.value),
                ),
                default=Value(TicketStatus.CLOSED.value),
                output_field=CharField(),
            )
        )
    )


def follow_up_requests(*, state: str) -> QuerySet[ChatSession]:
    return (
        _requests()
        .filter(state=state)
        .select_related("client", "contact__company", "ticket__assignee", "closed_by")
        .order_by("-requested_at", "-id")
    )


def follow_up_counts() -> dict[str, int]:
    """How many requests are in each state, in one query (the sub-tab labels)."""
    counts = _requests().aggregate(
        **{state.value: Count("pk", filter=Q(state=state.value)) for state in REQUEST_STATES}
    )
    return {key: value or 0 for key, value in counts.items()}


def transcript_for_supervisor(session_id: int) -> tuple[ChatSession, list[Message], list[Any]]:
    """A chat's transcript and comments for the console's transcript page."""
    session = (
        ChatSession.objects.select_related("client", "contact__company", "ticket", "ended_by")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise ChatNotFound("That chat does not exist.")
    messages = list(
        Message.objects.filter(session=session).select_related("author").order_by("seq")
    )
    return session, messages, list(comments_of(session.pk))
