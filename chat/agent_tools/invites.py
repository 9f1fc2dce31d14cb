"""Inviting another agent into a live chat.

An agent in the room (or a supervisor) invites an agent who is available and
not in the room, of any queue (it is asked in by name; chat.queues); the
invitee is notified (toast, sound, browser notification) and joins with the
usual Join, which lets an invited agent into a chat that was already answered
(``chat.services.session_join``). Each step is recorded
as a ``SessionEvent`` (the status does not change, the reason says what
happened) and a system line, and broadcast after commit.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat import broadcasts, lifecycle, messages, selectors
from chat.access import require_agent
from chat.errors import ChatError, ChatNotFound, InvalidState, MessageInvalid
from chat.models import ChatInvitation, ChatSession, Participant, ParticipantRole, SessionStatus
from presence.selectors import available_agents


class AgentUnavailable(ChatError):
    code = "agent_unavailable"


def _check_inviter(session: ChatSession, user: User) -> None:
    """Only an agent in the room, or a supervisor, may invite (or list whom)."""
    require_agent(user)
    participant = selectors.participant_of(session, user)
    if user.is_supervisor:
        return
    if participant is None or participant.role != ParticipantRole.AGENT:
        raise ChatNotFound("That chat does not exist.")
    if not participant.in_room:
        raise InvalidState("You have left this chat.", code="not_in_room")


def invite_candidates(*, session_id: int, user: User) -> list[dict[str, Any]]:
    """Agents who may be invited now: available, not in the room, not ``user``.
    ``invited`` marks those with an open invitation (inviting again re-sends it)."""
    session = selectors.session_by_id(session_id)
    _check_inviter(session, user)
    in_room = Participant.objects.filter(session=session, left_at__isnull=True).values("user_id")
    agents = (
        available_agents()
        .exclude(pk=user.pk)
        .exclude(pk__in=in_room)
        .order_by("full_name", "email")
        .distinct()
    )
    invited = set(
        ChatInvitation.objects.filter(session=session, accepted_at__isnull=True).values_list(
            "invitee_id", flat=True
        )
    )
    agents = list(agents)
    # Whoever is at the per-agent maximum could not join: not offered.
    free = selectors.chats_below_limit([a.pk for a in agents])
    return [
        {"id": a.pk, "name": a.display_name, "invited": a.pk in invited}
        for a in agents
        if a.pk in free
    ]


def invitation_create(*, session_id: int, inviter: User, invitee_id: int) -> ChatInvitation:
    """Invite ``invitee_id`` into a live chat. Refused unless the chat is
    active, the invitee is available and not already in the room."""
    require_agent(inviter)
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        _check_inviter(session, inviter)
        if session.status != SessionStatus.ACTIVE:
            raise InvalidState(
                f"Agents can be invited into a live chat only (this one is {session.status})."
            )
        if invitee_id == inviter.pk:
            raise MessageInvalid("You cannot invite yourself.", code="invite_self")
        # Availability is read now, in the transaction: the pick list may be stale.
        invitee = available_agents().filter(pk=invitee_id).first()
        if invitee is None:
            raise AgentUnavailable("That agent is not available right now; refresh the list.")
        if Participant.objects.filter(session=session, user=invitee, left_at__isnull=True).exists():
            raise InvalidState(
                f"{invitee.display_name} is already in this chat.", code="already_in_chat"
            )
        now = timezone.now()
        invitation = ChatInvitation.objects.filter(
            session=session, invitee=invitee, accepted_at__isnull=True
        ).first()
        if invitation is not None:
            # Asked again: notify again, without a second line in the chat.
            invitation.invited_by = inviter
            invitation.created_at = now
            invitation.save(update_fields=["invited_by", "created_at"])
        else:
            invitation = ChatInvitation.objects.create(
                session=session, invitee=invitee, invited_by=inviter, created_at=now
            )
            lifecycle.record(session, actor=inviter, reason=f"invited {invitee.display_name}")
            messages.system_line(
                session, f"{inviter.display_name} invited {invitee.display_name} to the chat."
            )
        broadcasts.agent_invited(
            selectors.session_payload_of(session.pk), invitee_id=invitee.pk, inviter=inviter
        )
        return invitation


def open_invitations(*, agent: User) -> list[ChatInvitation]:
    """The agent's open invitations to live chats, to restore after a reload."""
    return list(
        ChatInvitation.objects.select_related(
            "invited_by", "session__client", "session__contact__company", "session__ticket"
        )
        .filter(invitee=agent, accepted_at__isnull=True, session__status=SessionStatus.ACTIVE)
        .order_by("created_at")
    )
