"""The JSON shapes of chat objects in frames and API responses, in one place so
the socket, the replay and the REST API agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import User
from chat.models import ChatSession, Message, Participant


def user_payload(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.display_name, "role": user.role}


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "session_id": message.session_id,
        "seq": message.seq,
        "client_id": str(message.client_id),
        "kind": message.kind,
        "author": user_payload(message.author),
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


def participant_payload(participant: Participant) -> dict[str, Any]:
    return {
        "user": user_payload(participant.user),
        "role": participant.role,
        "in_room": participant.in_room,
        "joined_at": participant.joined_at.isoformat(),
        "left_at": participant.left_at.isoformat() if participant.left_at else None,
        "last_read_seq": participant.last_read_seq,
    }


def session_payload(
    session: ChatSession,
    participants: list[Participant] | None = None,
    *,
    client_online: bool | None = None,
) -> dict[str, Any]:
    """``participants`` may be passed when already loaded (avoids a query).
    ``client_online`` is given for the console's follow-up cards (Push chat)."""
    if participants is None:
        participants = list(session.participants.select_related("user"))
    extra = {} if client_online is None else {"client_online": client_online}
    return {
        **extra,
        "id": session.pk,
        "kind": session.kind,
        "status": session.status,
        "title": session.title,
        "subject": session.subject,
        "ticket_id": session.ticket_id,
        "ticket_url": f"/portal/tickets/{session.ticket_id}/" if session.ticket_id else None,
        "console_ticket_url": (
            f"/console/tickets/{session.ticket_id}/" if session.ticket_id else None
        ),
        "client": user_payload(session.client),
        "company": session.contact.company.name if session.contact_id else None,
        "queue_id": session.queue_id,
        "requested_at": session.requested_at.isoformat(),
        "answered_at": session.answered_at.isoformat() if session.answered_at else None,
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
        "last_seq": session.last_seq,
        "participants": [participant_payload(p) for p in participants],
        "warned_at": _iso(session.warned_at),
        "no_answer_at": _iso(session.no_answer_at),
        "inactive_at": _iso(session.inactive_at),
        "last_activity_at": _iso(session.last_activity_at),
        "outside_hours": session.outside_hours,
        "callback_phone": session.callback_phone,
        "callback_message": session.callback_message,
        "outcome": session.outcome,
        "closed_at": _iso(session.closed_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
