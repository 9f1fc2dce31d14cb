"""The supervisor console: watching live chats, comments to agents with
@mentions, and the reads behind the console's tabs and live numbers.

Rules (each checked here, never in the browser):

- **Watch**: supervisors and administrators only, any live chat (invited,
  waiting, active). Watching writes nothing: the watcher is no Participant,
  marks nothing read (chat.receipts ignores non-participants) and cannot
  send (chat.services.message_send refuses non-participants).
- **Comment**: a supervisor on any live chat, or an agent who is in the
  chat's room. A comment is staff-only: it is not a Message, so it never
  enters the conversation's seq, replay, transcript or email, and it is
  delivered only to staff sockets (chat.events.comment_posted).
- **Mentions**: ``@token`` in a comment body, where the token is letters,
  digits and ``._+-`` (trailing punctuation dropped) and the ``@`` does not
  follow a letter, digit or dot (so an email address in the text is not a
  mention). A token names an active staff member by the local part of their
  email (``@agent1`` -> agent1@example.com) or, failing that, by first name
  (``@Priya`` -> "Priya Shah"), case-insensitively. A first name two people
  share mentions both: a notification too many beats one missed. The author
  is never mentioned; clients and inactive users never are.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import STAFF_ROLES, User
from chat import events, selectors
from chat.errors import ChatForbidden, ChatNotFound, InvalidState, MessageInvalid
from chat.models import (
    OPEN_STATUSES,
    ChatComment,
    ChatKind,
    ChatSession,
    Message,
    Participant,
    ParticipantRole,
    SessionStatus,
)
from chat.payloads import message_payload, session_payload, user_payload
from presence.models import PresenceStatus
from tickets.models import TicketStatus

# --- Who may do what -------------------------------------------------------------------------


def _require_supervisor(user: User) -> None:
    if not user.is_authenticated or not user.is_supervisor:
        raise ChatForbidden("Only supervisors may do this.")


def _in_room_agent(session_id: int, user: User) -> bool:
    return Participant.objects.filter(
        session_id=session_id, user=user, role=ParticipantRole.AGENT, left_at__isnull=True
    ).exists()


def may_read_comments(user: User, session_id: int) -> bool:
    """Supervisors, and the agents in the room. An agent who left or was
    transferred away stops seeing new comments."""
    if not user.is_authenticated or not user.is_active or not user.is_agent:
        return False
    return user.is_supervisor or _in_room_agent(session_id, user)


def _live_session(session_id: int) -> ChatSession:
    session = (
        ChatSession.objects.select_related("client", "contact__company", "ticket")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise ChatNotFound("That chat does not exist.")
    if session.status not in OPEN_STATUSES:
        raise InvalidState("That chat is no longer live.", code="chat_not_live")
    return session


# --- Watching --------------------------------------------------------------------------------


def watch_state(*, session_id: int, supervisor: User, after_seq: int = 0) -> dict[str, Any]:
    """What a supervisor sees when it starts watching (or re-syncs after a
    reconnect): the chat, its messages after ``after_seq`` (one page; the
    browser fetches the rest with chat.history) and its comments."""
    _require_supervisor(supervisor)
    session = _live_session(session_id)
    limit = settings.CHAT_REPLAY_LIMIT
    messages = selectors.messages_after(session.pk, after_seq=after_seq, limit=limit)
    return {
        "type": "chat.watching",
        "session": session_payload(session),
        "messages": [message_payload(m) for m in messages],
        "has_more": bool(messages) and messages[-1].seq < session.last_seq,
        "comments": [comment_payload(c) for c in _comments(session.pk)],
    }


def watch_keeps_chat_group(*, session_id: int, user: User) -> bool:
    """Whether a socket that stops watching must stay in the chat's group
    because its user is also in the room (a supervisor who joined the chat)."""
    return Participant.objects.filter(
        session_id=session_id, user=user, left_at__isnull=True
    ).exists()


# --- Comments --------------------------------------------------------------------------------

MENTION_RE = re.compile(r"(?<![\w.@+-])@([A-Za-z0-9](?:[\w.+-]*[A-Za-z0-9_])?)")


def mention_tokens(body: str) -> list[str]:
    """The ``@tokens`` of a body, lower-cased, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in MENTION_RE.finditer(body):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def resolve_mentions(body: str, *, author: User | None = None) -> list[User]:
    """Active staff named in ``body`` (see the module docstring). One query."""
    tokens = mention_tokens(body)
    if not tokens:
        return []
    staff = list(User.objects.filter(is_active=True, role__in=STAFF_ROLES).order_by("pk"))
    by_local: dict[str, list[User]] = {}
    by_first: dict[str, list[User]] = {}
    for user in staff:
        by_local.setdefault(user.email.split("@")[0].lower(), []).append(user)
        if user.full_name.strip():
            by_first.setdefault(user.full_name.split()[0].lower(), []).append(user)
    found: dict[int, User] = {}
    for token in tokens:
        for user in by_local.get(token) or by_first.get(token) or []:
            if author is None or user.pk != author.pk:
                found.setdefault(user.pk, user)
    return list(found.values())


def comment_add(
    *, session_id: int, author: User, body: str, client_id: uuid.UUID | str | None = None
) -> ChatComment:
    """Post a staff-only comment on a live chat and notify the mentioned. A
    ``client_id`` the author used before returns that comment: nothing new is
    stored, nobody is notified again (a resend after a dropped connection)."""
    if not author.is_authenticated or not author.is_agent:
        raise ChatForbidden("Only staff may comment on a chat.")
    body = (body or "").strip()
    if not body:
        raise MessageInvalid("Write a comment first.", code="comment_empty")
    limit = settings.CHAT_MESSAGE_MAX_CHARS
    if len(body) > limit:
        raise MessageInvalid(
            f"A comment may be at most {limit:,} characters.", code="comment_too_long"
        )
    from chat.services import _lock

    with transaction.atomic():
        # Under the session's row lock: the chat cannot end between the check
        # and the insert, and a comment is ordered with the chat's changes.
        session = _lock(session_id)
        if not author.is_supervisor and not _in_room_agent(session.pk, author):
            # An agent outside the room may know the chat exists (the queue,
            # other chats) but has no say in it.
            selectors.session_for(author, session.pk)  # not_found for chats it cannot see
            raise ChatForbidden("Only the agents in this chat and supervisors may comment on it.")
        if client_id is not None:
            # Before the state check: the chat may have ended since the first try.
            stored = ChatComment.objects.filter(
                session=session, author=author, client_id=client_id
            ).first()
            if stored is not None:
                return stored
        if session.status not in OPEN_STATUSES:
            raise InvalidState("Comments are for live chats.", code="chat_not_live")
        # No race to catch here: a resend waits for the session lock above and
        # then finds this row.
        comment = ChatComment.objects.create(
            session=session,
            author=author,
            body=body,
            created_at=timezone.now(),
            client_id=client_id,
        )
        mentioned = resolve_mentions(body, author=author)
        if mentioned:
            comment.mentions.set(mentioned)
        events.comment_posted(comment, title=session.title, mentioned=mentioned)
        return comment


def _comments(session_id: int) -> QuerySet[ChatComment]:
    return (
        ChatComment.objects.filter(session_id=session_id)
        .select_related("author")
        .prefetch_related(Prefetch("mentions", queryset=User.objects.order_by("pk")))
        .order_by("created_at", "id")
    )


def comments_for(*, session_id: int, user: User) -> list[ChatComment]:
    """The comments of a chat for someone allowed to read them; anyone else
    gets "not found" (a client must not even learn that comments exist)."""
    if not may_read_comments(user, session_id):
        raise ChatNotFound("That chat does not exist.")
    return list(_comments(session_id))


def comment_payload(comment: ChatComment, mentioned: list[User] | None = None) -> dict[str, Any]:
    if mentioned is None:
        mentioned = list(comment.mentions.all())
    return {
        "id": comment.pk,
        "session_id": comment.session_id,
        "author": user_payload(comment.author),
        "body": comment.body,
        "mentions": [user_payload(u) for u in mentioned],
        "created_at": comment.created_at.isoformat(),
    }


# --- The console's live numbers and Chats tab ------------------------------------------------

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
    base = ChatSession.objects.select_related("client", "contact__company", "ticket")
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
    return session, messages, list(_comments(session.pk))
