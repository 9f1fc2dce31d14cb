"""Reads of chat used by the socket, the pages and the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import STAFF_ROLES, Role, User
from chat import queues
from chat.errors import ChatNotFound
from chat.models import (
    OPEN_STATUSES,
    Channel,
    ChatBlock,
    ChatSession,
    Message,
    Participant,
    ParticipantRole,
    ReachChannel,
    SessionStatus,
)
from chat.payloads import (
    PARTICIPANT_ROW_FIELDS,
    SESSION_ROW_FIELDS,
    message_payload,
    participant_payload_from_row,
    session_payload,
    session_payload_from_row,
)
from chat.reach_email_rules import awaits_client
from presence.models import AgentConnection
from presence.selectors import available_agents

# Requests the staff of their queue may open (chat.queues): the waiting
# requests and the follow-up cards.
STAFF_SHARED_STATUSES = (SessionStatus.WAITING, SessionStatus.ABANDONED, SessionStatus.CALLBACK)


def _sessions() -> QuerySet[ChatSession]:
    # The phone client: a WhatsApp chat's payload says when its window closes.
    return ChatSession.objects.select_related("client__phone_client", "contact__company", "ticket")


def session_by_id(session_id: int) -> ChatSession:
    """The session with what its payload shows, without an access check: for
    a caller that checks access itself. ChatNotFound if there is none."""
    session = _sessions().filter(pk=session_id).first()
    if session is None:
        raise ChatNotFound("That chat does not exist.")
    return session


def session_for(user: User, session_id: int) -> ChatSession:
    """The session if ``user`` may read it: its client, a participant agent,
    the agents of its queue for a waiting request or a follow-up card (and the
    one who closed it), or a supervisor. Anything else is "not found" so ids
    cannot be probed."""
    session = _sessions().filter(pk=session_id).first()
    if session is None or not user.is_authenticated:
        raise ChatNotFound("That chat does not exist.")
    if user.is_client:
        if session.client_id == user.pk:
            return session
    elif (
        user.is_supervisor
        or user.is_agent
        and (
            session.status in STAFF_SHARED_STATUSES
            and queues.answers(user, session.queue_id)
            or session.closed_by_id == user.pk
            or Participant.objects.filter(session=session, user=user).exists()
        )
    ):
        return session
    raise ChatNotFound("That chat does not exist.")


def participant_of(session: ChatSession, user: User) -> Participant | None:
    """``user``'s place in the chat (in the room or not), if it ever had one."""
    return Participant.objects.filter(session=session, user=user).first()


def is_in_room(session_id: int, user: User) -> bool:
    """Whether ``user`` is in the chat's room now (any role; not someone who
    left or was transferred away)."""
    return Participant.objects.filter(
        session_id=session_id, user=user, left_at__isnull=True
    ).exists()


def is_in_room_agent(session_id: int, user: User) -> bool:
    return Participant.objects.filter(
        session_id=session_id, user=user, role=ParticipantRole.AGENT, left_at__isnull=True
    ).exists()


def in_room_agent_ids(session_id: int) -> list[int]:
    """The agents in the chat's room now."""
    return list(
        Participant.objects.filter(
            session_id=session_id, role=ParticipantRole.AGENT, left_at__isnull=True
        ).values_list("user_id", flat=True)
    )


def in_room_staff_ids(session_id: int) -> list[int]:
    """The agents in the room who are still staff: who hears staff-only lines
    (comments, page views). A former agent whose role changed is left out."""
    return list(
        Participant.objects.filter(
            session_id=session_id,
            role=ParticipantRole.AGENT,
            left_at__isnull=True,
            user__role__in=STAFF_ROLES,
        ).values_list("user_id", flat=True)
    )


def follows_live(user: User, session: ChatSession) -> bool:
    """Whether ``user``'s sockets may hear ``session``'s events (its group),
    given that it may read it (:func:`session_for`): its client, supervisors,
    and the agents in its room. The agents of its queue may read a waiting
    request, and an agent who left or was transferred away may still read the
    transcript, but they do not hear the chat (the queue's changes reach them
    through their queue's group, chat.queues)."""
    if user.is_client or user.is_supervisor:
        return True
    return is_in_room(session.pk, user)


def sessions_visible_to(user: User) -> QuerySet[ChatSession]:
    sessions = _sessions()
    if not user.is_authenticated:
        return sessions.none()
    if user.is_client:
        return sessions.filter(client=user)
    if user.is_supervisor:
        return sessions
    if user.is_agent:
        mine = Participant.objects.filter(session=OuterRef("pk"), user=user)
        shared = Q(status__in=STAFF_SHARED_STATUSES) & queues.answered_by(user)
        return sessions.filter(shared | Q(closed_by=user) | Q(Exists(mine)))
    return sessions.none()


def messages_after(session_id: int, *, after_seq: int, limit: int) -> list[Message]:
    return list(
        Message.objects.filter(session_id=session_id, seq__gt=after_seq)
        .select_related("author", "attachment")
        .order_by("seq")[:limit]
    )


def replay_page(
    session: ChatSession, *, after_seq: int, limit: int | None = None
) -> dict[str, Any]:
    """One page of a chat's messages after ``after_seq``, as frames carry it:
    ``messages`` (payloads, at most ``limit`` and never more than
    CHAT_REPLAY_LIMIT) and ``has_more`` (the browser asks for the next page)."""
    limit = min(limit or settings.CHAT_REPLAY_LIMIT, settings.CHAT_REPLAY_LIMIT)
    messages = messages_after(session.pk, after_seq=after_seq, limit=limit)
    return {
        "messages": [message_payload(m) for m in messages],
        "has_more": bool(messages) and messages[-1].seq < session.last_seq,
    }


def last_seqs(session_ids: list[int]) -> dict[int, int]:
    """The ``last_seq`` of each of these sessions (one query by primary key:
    every socket's heartbeat asks it, chat/frames/heartbeat.py)."""
    return dict(ChatSession.objects.filter(pk__in=session_ids).values_list("pk", "last_seq"))


def available_agent_ids(*, queue_id: int | None) -> list[int]:
    """Agents to page for a request: available now and, when the request has
    a queue, members of it."""
    agents = available_agents()
    if queue_id is not None:
        agents = agents.filter(chat_queues__id=queue_id)
    return list(agents.values_list("pk", flat=True).distinct())


def live_places() -> QuerySet[Participant]:
    """Agents' places in live chats (active, or pushed and waiting for the
    client): what the per-agent maximum of chats counts."""
    return Participant.objects.filter(
        role=ParticipantRole.AGENT,
        left_at__isnull=True,
        session__status__in=(SessionStatus.ACTIVE, SessionStatus.INVITED),
    )


def chats_below_limit(agent_ids: list[int]) -> dict[int, int]:
    """The live chats of each of these agents who may take one more (below
    MAX_CHATS_PER_AGENT), by agent id; agents at the limit are left out. One
    query. Pick lists (invite, transfer) offer only these; the move itself
    checks again under a lock (chat.capacity.check_capacity)."""
    rows = live_places().filter(user_id__in=agent_ids).values("user_id").annotate(n=Count("id"))
    counts = {row["user_id"]: row["n"] for row in rows}
    limit = settings.MAX_CHATS_PER_AGENT
    return {pk: counts.get(pk, 0) for pk in agent_ids if counts.get(pk, 0) < limit}


def available_supervisor_ids() -> list[int]:
    return list(
        available_agents()
        .filter(role__in=[Role.SUPERVISOR, Role.ADMINISTRATOR])
        .values_list("pk", flat=True)
    )


def session_manager(agent: User) -> dict[str, list[ChatSession]]:
    """What the console's session manager lists: the queue (waiting requests,
    oldest first), my open chats, other agents' live chats and the follow-up
    cards. Everything but my own chats only of the queues ``agent`` answers
    (chat.queues: a supervisor's are all)."""
    mine_in_room = Participant.objects.filter(
        session=OuterRef("pk"), user=agent, left_at__isnull=True
    )
    sessions = _sessions().prefetch_related("participants__user")
    answered = sessions.filter(queues.answered_by(agent))
    waiting = answered.filter(status=SessionStatus.WAITING).order_by("requested_at")
    mine = (
        sessions.filter(Exists(mine_in_room))
        .exclude(status__in=[SessionStatus.WAITING])
        .order_by("-requested_at")[:50]
    )
    others = (
        answered.filter(status=SessionStatus.ACTIVE)
        .exclude(Exists(mine_in_room))
        .order_by("-requested_at")[:50]
    )
    # Follow-up cards: requests nobody answered and callbacks, oldest first,
    # until an agent closes them with End session.
    abandoned = answered.filter(status=SessionStatus.ABANDONED).order_by("requested_at")[:100]
    callbacks = answered.filter(status=SessionStatus.CALLBACK).order_by("requested_at")[:100]
    return {
        "queue": list(waiting[:200]),
        "mine": list(mine),
        "others": list(others),
        "abandoned": list(abandoned),
        "callbacks": list(callbacks),
    }


def sessions_for_ticket(user: User, ticket_id: int) -> QuerySet[ChatSession]:
    return sessions_visible_to(user).filter(ticket_id=ticket_id).order_by("-requested_at")


def open_sessions_of_client(client: User) -> list[ChatSession]:
    """A client's chats to restore after a reload: open ones it has not left,
    ended ones it has not left yet, and pending invitations."""
    in_room = Participant.objects.filter(session=OuterRef("pk"), user=client, left_at__isnull=True)
    return list(
        _sessions()
        .prefetch_related("participants__user")
        .filter(client=client)
        .filter(Q(status=SessionStatus.INVITED) | Q(Exists(in_room)))
        .exclude(status__in=[SessionStatus.CLOSED, SessionStatus.DECLINED])
        .order_by("-requested_at")[:20]
    )


def chats_to_join(client: User) -> list[ChatSession]:
    """Live chats an agent started for this portal client by email (Message
    customer) that it has never been in: the portal's home lists them with
    Join chat (chat.services.session_enter)."""
    return list(
        ChatSession.objects.select_related("ticket", "reach_out__by")
        .filter(
            awaits_client(),
            client=client,
            channel=Channel.WEB,
            reach_out__channel=ReachChannel.EMAIL,
        )
        .order_by("-requested_at")[:20]
    )


def ticket_chat_open_for(client: User, ticket_id: int) -> bool:
    """Whether the client has a live chat on this ticket (on a closed ticket:
    one an agent started, which its page offers to join)."""
    return ChatSession.objects.filter(
        client=client, ticket_id=ticket_id, status__in=OPEN_STATUSES
    ).exists()


def online_user_ids(user_ids: list[int]) -> set[int]:
    """Which of these users have a live socket (one query)."""
    fresh = timezone.now() - timedelta(seconds=settings.PRESENCE_STALE_SECONDS)
    return set(
        AgentConnection.objects.filter(user_id__in=user_ids, last_seen__gte=fresh).values_list(
            "user_id", flat=True
        )
    )


def client_blocked(*, client: User, ip_address: str | None, now: datetime | None = None) -> bool:
    """Whether a block in force stops this client, or a request from this
    address (chat.agent_tools.blocks writes them)."""
    now = now or timezone.now()
    who = Q(client=client)
    if ip_address:
        who |= Q(ip_address=ip_address)
    return ChatBlock.objects.filter(who, active=True, expires_at__gt=now).exists()


# --- Payloads of what a service just changed (chat.broadcasts sends them) ------------


def session_payload_of(session_id: int) -> dict[str, Any]:
    """The session as its room and the session managers see it now."""
    return session_payload(session_by_id(session_id))


def session_payloads_of(session_ids: list[int]) -> list[dict[str, Any]]:
    """Payloads of chats a sweep or a follow-up changed, with whether each
    client is online (the follow-up cards offer Push chat then): three queries
    whatever the number of chats, and built from ``.values()`` rows rather
    than model instances (a sweep of a thousand chats spent most of its time
    instantiating sessions, users and participants)."""
    rows = list(ChatSession.objects.filter(pk__in=session_ids).values(*SESSION_ROW_FIELDS))
    participants: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    for row in (
        Participant.objects.filter(session_id__in=session_ids)
        .order_by("joined_at", "id")
        .values(*PARTICIPANT_ROW_FIELDS)
    ):
        participants[row["session_id"]].append(participant_payload_from_row(row))
    online = online_user_ids([row["client_id"] for row in rows])
    return [
        session_payload_from_row(
            row, participants[row["id"]], client_online=row["client_id"] in online
        )
        for row in rows
    ]
