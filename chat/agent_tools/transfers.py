"""Transfer and Assign: a chat moves to another agent.

*Transfer* (the agent console): the agent in a live chat hands it to an
agent who is available right now, or to a queue that has one; the queue picks
its least busy available member, and the chat belongs to that queue from then
on (chat.queues). An agent named by a transfer or an Assign gets the chat
whatever its queues: it was chosen by name. The transferring agent leaves the room and
stops receiving the chat's events. *Assign* (Supervisor console) is the same
move made by a supervisor who is not in the chat: a waiting request is answered
on the target's behalf, a live chat is taken from the agents in it.

The pick list (:func:`transfer_targets`) only offers who is available when it
is read; the move checks again under the session lock, so a target who went
away in between is refused, never handed a chat.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat import broadcasts, lifecycle, messages, selectors
from chat.capacity import check_capacity
from chat.errors import (
    AtCapacity,
    ChatError,
    ChatForbidden,
    ChatNotFound,
    InvalidState,
    MessageInvalid,
)
from chat.models import (
    ChatInvitation,
    ChatQueue,
    ChatSession,
    ChatTransfer,
    Participant,
    ParticipantRole,
    SessionStatus,
)
from presence.selectors import available_agents

REASON_MAX = 500


class TargetUnavailable(ChatError):
    """The chosen agent or queue has nobody available (any more)."""

    code = "target_unavailable"


def _may_move(session: ChatSession, user: User) -> bool:
    """The agents in the room may transfer a live chat; supervisors may move
    any open request or chat (Assign)."""
    if user.is_supervisor:
        return True
    in_room = selectors.in_room_agent_ids(session.pk)
    return session.status == SessionStatus.ACTIVE and user.pk in in_room


def _session_for_move(session_id: int, user: User) -> ChatSession:
    if not user.is_authenticated or not user.is_agent:
        raise ChatForbidden("Only staff can transfer a chat.")
    session = selectors.session_by_id(session_id)
    if not _may_move(session, user):
        raise ChatNotFound("That chat does not exist.")
    return session


def transfer_targets(*, session_id: int, user: User) -> dict[str, Any]:
    """Who the chat may go to right now: available agents not already in it
    (with how many chats each has, under the per-agent maximum), and the queues
    with at least one of them. A fixed number of queries."""
    session = _session_for_move(session_id, user)
    in_room = set(selectors.in_room_agent_ids(session.pk))
    candidates = list(available_agents().exclude(pk__in=in_room).order_by("full_name", "email"))
    free = selectors.chats_below_limit([a.pk for a in candidates])
    agents = [
        {"id": a.pk, "name": a.display_name, "open_chats": free[a.pk]}
        for a in candidates
        if a.pk in free
    ]
    queues = []
    for queue in ChatQueue.objects.prefetch_related("members").order_by("name"):
        available = sum(1 for m in queue.members.all() if m.pk in free)
        if available:
            queues.append({"id": queue.pk, "name": queue.name, "available": available})
    return {
        "session_id": session.pk,
        "agents": agents,
        "queues": queues,
        "limit": settings.MAX_CHATS_PER_AGENT,
    }


def _pick_from_queue(queue: ChatQueue, *, exclude: set[int]) -> User:
    """The queue's available member with the fewest live chats (then the one
    available longest), below the per-agent maximum."""
    members = list(
        available_agents()
        .filter(chat_queues=queue)
        .exclude(pk__in=exclude)
        .order_by("presence__status_changed_at", "pk")
    )
    free = selectors.chats_below_limit([m.pk for m in members])
    if not free:
        raise TargetUnavailable(f"Nobody in {queue.name} is available right now.")
    return min((m for m in members if m.pk in free), key=lambda m: free[m.pk])


def _clean_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise MessageInvalid("Say why the chat is transferred.", code="reason_required")
    if len(reason) > REASON_MAX:
        raise MessageInvalid(
            f"The reason may be at most {REASON_MAX} characters.", code="reason_too_long"
        )
    return reason


def session_transfer(
    *,
    session_id: int,
    by: User,
    reason: str,
    to_agent_id: int | None = None,
    to_queue_id: int | None = None,
) -> ChatSession:
    """Move a chat to an available agent, or to a queue that has one.

    Refused when the target is not available any more, already in the chat,
    at the per-agent maximum, or when the chat is not live. Recorded as a
    ``ChatTransfer`` (and a ``SessionEvent`` when a waiting request becomes
    active); the client sees a system line naming the new agent.
    """
    if (to_agent_id is None) == (to_queue_id is None):
        raise MessageInvalid("Choose an agent or a queue.", code="target_required")
    reason = _clean_reason(reason)
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        if not by.is_authenticated or not by.is_agent or not _may_move(session, by):
            raise ChatNotFound("That chat does not exist.")
        if session.status not in (SessionStatus.ACTIVE, SessionStatus.WAITING):
            raise InvalidState(f"This chat can no longer be transferred (it is {session.status}).")
        in_room = set(selectors.in_room_agent_ids(session.pk))
        from_queue_id = session.queue_id
        queue = None
        if to_queue_id is not None:
            queue = ChatQueue.objects.filter(pk=to_queue_id).first()
            if queue is None:
                raise TargetUnavailable("That queue does not exist.")
            target = _pick_from_queue(queue, exclude=in_room | {by.pk})
        else:
            target = available_agents().filter(pk=to_agent_id).first()  # type: ignore[assignment]
            if target is None:
                raise TargetUnavailable("That agent is not available any more.")
            if target.pk in in_room:
                raise InvalidState("That agent is already in the chat.", code="already_in_chat")
        try:
            check_capacity(target, exclude_session_id=session.pk)
        except AtCapacity as exc:
            raise AtCapacity(
                f"{target.display_name} already has the most live chats one agent may have."
            ) from exc
        left = _hand_over(session, by=by, target=target, queue=queue, in_room=in_room)
        ChatTransfer.objects.create(
            session=session,
            by=by,
            from_agent_id=by.pk if by.pk in in_room else next(iter(sorted(in_room)), None),
            to_agent=target,
            to_queue=queue,
            reason=reason,
            at=timezone.now(),
        )
        broadcasts.session_transferred(
            selectors.session_payload_of(session.pk),
            to_agent_id=target.pk,
            left_ids=left,
            by=by,
            reason=reason,
            from_queue_id=from_queue_id,
        )
        return session


def _hand_over(
    session: ChatSession, *, by: User, target: User, queue: ChatQueue | None, in_room: set[int]
) -> list[int]:
    """Move the chat to ``target``; the ids of the agents who left it."""
    now = timezone.now()
    changes: dict[str, Any] = {}
    if queue is not None:
        changes["queue"] = queue
    if session.status == SessionStatus.WAITING:
        # Assign of a waiting request: answered on the target's behalf, with
        # the same conditional move as Join so a racing Join cannot also win.
        lifecycle.move(
            session,
            SessionStatus.ACTIVE,
            actor=by,
            reason=f"assigned to {target.display_name}",
            changes={
                "answered_at": now,
                "last_activity_at": now,
                "inactivity_due_at": messages.inactivity_deadline(now),
                **changes,
            },
        )
        leaving: list[int] = []
    else:
        if changes:
            ChatSession.objects.filter(pk=session.pk).update(**changes)
        # An agent hands over their own place; a supervisor's Assign takes the
        # chat from everyone in the room.
        leaving = [by.pk] if by.pk in in_room else sorted(in_room)
    if queue is not None:
        session.queue = queue
    Participant.objects.filter(session=session, user_id__in=leaving, left_at__isnull=True).update(
        left_at=now, transferred_away=True
    )
    # Invitations the leavers sent lapse with their place in the chat: the
    # agent who has it now decides whom to ask in.
    ChatInvitation.objects.filter(
        session=session, invited_by_id__in=leaving, accepted_at__isnull=True
    ).delete()
    rejoined = Participant.objects.filter(session=session, user=target).update(
        left_at=None, transferred_away=False
    )
    if not rejoined:
        Participant.objects.create(
            session=session, user=target, role=ParticipantRole.AGENT, joined_at=now
        )
    names = User.objects.filter(pk__in=leaving).order_by("pk")
    who = ", ".join(u.display_name for u in names) or by.display_name
    line = (
        f"{by.display_name} assigned the chat to {target.display_name}."
        if not leaving or by.pk not in leaving
        else f"{who} transferred the chat to {target.display_name}."
    )
    messages.system_line(session, line)
    return leaving
