"""Who may do what, in the checks every chat service starts with."""

from __future__ import annotations

from accounts.models import User
from chat.errors import ChatForbidden
from chat.models import ChatSession, Participant, ParticipantRole


def require_agent(user: User) -> None:
    if not user.is_authenticated or not user.is_agent:
        raise ChatForbidden("Only staff can do this.")


def require_client(user: User) -> None:
    if not user.is_authenticated or not user.is_client or getattr(user, "contact", None) is None:
        raise ChatForbidden("Only a client with a portal contact can do this.")


def require_supervisor(user: User) -> None:
    if not user.is_authenticated or not user.is_supervisor:
        raise ChatForbidden("Only supervisors may do this.")


def participant_of(session: ChatSession, user: User) -> Participant | None:
    """``user``'s place in the chat (in the room or not), if it ever had one."""
    return Participant.objects.filter(session=session, user=user).first()


def in_room_agent_ids(session_id: int) -> list[int]:
    """The agents in the chat's room now (not those who left or were
    transferred away)."""
    return list(
        Participant.objects.filter(
            session_id=session_id, role=ParticipantRole.AGENT, left_at__isnull=True
        ).values_list("user_id", flat=True)
    )


def is_in_room_agent(session_id: int, user: User) -> bool:
    return Participant.objects.filter(
        session_id=session_id, user=user, role=ParticipantRole.AGENT, left_at__isnull=True
    ).exists()
