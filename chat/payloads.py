"""The JSON shapes of chat objects in frames and API responses, in one place so
the socket, the replay and the REST API agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import User
from chat import whatsapp_window
from chat.formatting import render_markdown, render_plain
from chat.models import (
    Channel,
    ChatAttachment,
    ChatBlock,
    ChatComment,
    ChatSession,
    Message,
    MessageKind,
    PageView,
    Participant,
)


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
        # Sanitized HTML the browser inserts as is (chat.formatting); system
        # lines are escaped text, not markdown.
        "body_html": (
            render_markdown(message.body)
            if message.kind == MessageKind.TEXT
            else render_plain(message.body)
        ),
        "created_at": message.created_at.isoformat(),
        "read_at": _iso(message.read_at),
        # A file message's file (chat.files); None for every other kind.
        "attachment": (attachment_payload(message.attachment) if message.attachment_id else None),
        "delivery": delivery_payload(message),
    }


def delivery_payload(message: Message) -> dict[str, Any] | None:
    """How far a message sent to an SMS/WhatsApp client got (chat.channels):
    None for everything that is not sent through a provider."""
    if not message.delivery_status:
        return None
    return {
        "status": message.delivery_status,
        "error": message.delivery_error,
        "at": _iso(message.delivery_at),
    }


def attachment_payload(attachment: ChatAttachment) -> dict[str, Any]:
    """The file of a chat message. Only the access-checked views of
    chat.files.views serve it; ``preview_url`` is set for raster images whose
    bytes were checked (ChatAttachment.is_image), the rest is download only."""
    return {
        "id": attachment.pk,
        "name": attachment.original_name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "url": f"/chat/files/{attachment.pk}/",
        "preview_url": f"/chat/files/{attachment.pk}/preview/" if attachment.is_image else None,
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
        "channel": session.channel,
        "client_address": session.client_address,
        "title": session.title,
        "subject": session.subject,
        "ticket_id": session.ticket_id,
        "ticket_url": f"/portal/tickets/{session.ticket_id}/" if session.ticket_id else None,
        "console_ticket_url": (
            f"/console/tickets/{session.ticket_id}/" if session.ticket_id else None
        ),
        "client": user_payload(session.client),
        "contact": _contact(session.contact_id, session.contact.name if session.contact else ""),
        "company": session.contact.company.name if session.contact else None,
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
        "window_closes_at": _iso(whatsapp_window.session_closes_at(session)),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _contact(contact_id: int | None, name: str) -> dict[str, Any] | None:
    """The chat's contact; None for an SMS/WhatsApp number no contact has yet."""
    return {"id": contact_id, "name": name} if contact_id else None


# --- The same shapes from ``.values()`` rows ---------------------------------------
# A sweep announces up to thousands of chats at once; building their payloads
# from model instances (a session, its client, contact, company, ticket, and
# every participant with its user) was most of its time. These build the very
# same dicts from plain rows: keep them in step with the functions above
# (tests/chat/test_payloads.py compares the two).

SESSION_ROW_FIELDS = (
    "id",
    "kind",
    "status",
    "channel",
    "client_address",
    "subject",
    "ticket_id",
    "ticket__subject",
    "client_id",
    "client__full_name",
    "client__email",
    "client__role",
    "contact_id",
    "contact__name",
    "contact__company__name",
    "queue_id",
    "requested_at",
    "answered_at",
    "ended_at",
    "last_seq",
    "warned_at",
    "no_answer_at",
    "inactive_at",
    "last_activity_at",
    "outside_hours",
    "callback_phone",
    "callback_message",
    "outcome",
    "closed_at",
    "client__phone_client__whatsapp_received_at",
)

PARTICIPANT_ROW_FIELDS = (
    "session_id",
    "user_id",
    "user__full_name",
    "user__email",
    "user__role",
    "role",
    "joined_at",
    "left_at",
    "last_read_seq",
)


def participant_payload_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """:func:`participant_payload` of a ``PARTICIPANT_ROW_FIELDS`` row."""
    return {
        "user": {
            "id": row["user_id"],
            "name": row["user__full_name"] or row["user__email"],
            "role": row["user__role"],
        },
        "role": row["role"],
        "in_room": row["left_at"] is None,
        "joined_at": row["joined_at"].isoformat(),
        "left_at": _iso(row["left_at"]),
        "last_read_seq": row["last_read_seq"],
    }


def session_payload_from_row(
    row: dict[str, Any],
    participants: list[dict[str, Any]],
    *,
    client_online: bool | None = None,
) -> dict[str, Any]:
    """:func:`session_payload` of a ``SESSION_ROW_FIELDS`` row, with the
    participants already as payloads (:func:`participant_payload_from_row`)."""
    extra = {} if client_online is None else {"client_online": client_online}
    ticket_id = row["ticket_id"]
    if ticket_id:
        title = f"#{ticket_id} {row['ticket__subject']}"
    else:
        title = row["subject"] or f"Chat {row['id']}"
    return {
        **extra,
        "id": row["id"],
        "kind": row["kind"],
        "status": row["status"],
        "channel": row["channel"],
        "client_address": row["client_address"],
        "title": title,
        "subject": row["subject"],
        "ticket_id": ticket_id,
        "ticket_url": f"/portal/tickets/{ticket_id}/" if ticket_id else None,
        "console_ticket_url": f"/console/tickets/{ticket_id}/" if ticket_id else None,
        "client": {
            "id": row["client_id"],
            "name": row["client__full_name"] or row["client__email"],
            "role": row["client__role"],
        },
        "contact": _contact(row["contact_id"], row["contact__name"]),
        "company": row["contact__company__name"],
        "queue_id": row["queue_id"],
        "requested_at": row["requested_at"].isoformat(),
        "answered_at": _iso(row["answered_at"]),
        "ended_at": _iso(row["ended_at"]),
        "last_seq": row["last_seq"],
        "participants": participants,
        "warned_at": _iso(row["warned_at"]),
        "no_answer_at": _iso(row["no_answer_at"]),
        "inactive_at": _iso(row["inactive_at"]),
        "last_activity_at": _iso(row["last_activity_at"]),
        "outside_hours": row["outside_hours"],
        "callback_phone": row["callback_phone"],
        "callback_message": row["callback_message"],
        "outcome": row["outcome"],
        "closed_at": _iso(row["closed_at"]),
        "window_closes_at": _iso(
            whatsapp_window.closes_at(row["client__phone_client__whatsapp_received_at"])
            if row["channel"] == Channel.WHATSAPP
            else None
        ),
    }


def block_payload(block: ChatBlock) -> dict[str, Any]:
    """For the agent who blocked (never sent to the client)."""
    return {
        "id": block.pk,
        "client": user_payload(block.client),
        "ip_address": block.ip_address,
        "reason": block.reason,
        "created_by": user_payload(block.created_by),
        "expires_at": _iso(block.expires_at),
    }


def comment_payload(comment: ChatComment) -> dict[str, Any]:
    """A staff-only comment (chat.supervision.comments): staff sockets only."""
    return {
        "id": comment.pk,
        "session_id": comment.session_id,
        "author": user_payload(comment.author),
        "body": comment.body,
        "mentions": [user_payload(u) for u in comment.mentions.all()],
        "created_at": comment.created_at.isoformat(),
    }


def page_view_payload(view: PageView, client: User | None) -> dict[str, Any]:
    """A client's page view (chat.visitors): staff sockets only."""
    name = client.display_name if client is not None else "The client"
    text = f"{name} viewed {view.path}" + (f" — {view.title}" if view.title else "")
    return {
        "id": view.pk,
        "session_id": view.session_id,
        "path": view.path,
        "title": view.title,
        "viewed_at": view.viewed_at.isoformat(),
        "client": user_payload(client),
        # The line as the console shows it (inserted as text, never HTML).
        "text": text,
    }
