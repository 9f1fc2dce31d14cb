"""The one writer of chat messages.

A message takes the session's next ``seq`` (gap-free and strictly increasing
per chat: browsers replay and detect gaps by it), moves the session's
``last_activity_at`` and, in an active chat, restarts the inactivity clock in
the same locked row, so the inactivity sweep cannot act on a chat that just
had one. Every message is stored before it is broadcast (chat.broadcasts, on
commit). Three ways in, one set of rules:

- :func:`append` for any line of a service that holds the session's lock;
- :func:`send_text` for a socket's ``chat.send``, the hot path of chat, whose
  SQL is written out in chat.message_sql (one statement on PostgreSQL, four in
  one IMMEDIATE transaction on SQLite);
- :func:`bulk_lines` for the timer sweeps' system lines, whose seqs
  chat.lifecycle.move_many takes in its bulk UPDATE
  (:func:`seq_for_bulk_lines`). A sweep's line is not activity: it moves
  neither ``last_activity_at`` nor the inactivity deadline.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from chat import broadcasts, message_sql
from chat.errors import MessageInvalid
from chat.message_sql import Participation
from chat.models import ChatAttachment, ChatSession, Message, MessageKind, SessionStatus


def inactivity_deadline(now: datetime) -> datetime:
    """When an active chat whose last message came at ``now`` counts as inactive."""
    return now + timedelta(seconds=settings.INACTIVITY_SECONDS)


def append(
    session: ChatSession,
    *,
    author: User | None,
    body: str,
    kind: str = MessageKind.TEXT,
    client_id: uuid.UUID | None = None,
    attachment: ChatAttachment | None = None,
    provider_message_id: str | None = None,
    delivery_status: str = "",
) -> Message:
    """Store a message with the next seq and broadcast it after commit. The
    caller holds the session's lock. ``attachment``: the file of a ``file``
    message (chat.files); ``provider_message_id``: the SMS/WhatsApp
    provider's id of what the client sent (unique: a webhook delivered twice
    stores it once; chat.inbound); ``delivery_status``: ``queued`` for what a
    provider sends to the client (the caller queues its send after commit,
    chat.channels.delivery)."""
    now = timezone.now()
    session.last_seq += 1
    session.last_activity_at = now
    changes: dict[str, object] = {"last_seq": session.last_seq, "last_activity_at": now}
    if session.status == SessionStatus.ACTIVE:
        changes["inactivity_due_at"] = inactivity_deadline(now)
        changes["inactive_at"] = None
        session.inactive_at = None
    ChatSession.objects.filter(pk=session.pk).update(**changes)
    message = Message.objects.create(
        session=session,
        seq=session.last_seq,
        client_id=client_id or uuid.uuid4(),
        author=author,
        kind=kind,
        body=body,
        created_at=now,
        attachment=attachment,
        provider_message_id=provider_message_id,
        delivery_status=delivery_status,
    )
    broadcasts.message_created(message)
    return message


def system_line(session: ChatSession, body: str, *, author: User | None = None) -> Message:
    """A line of the chat itself ("Priya joined the chat."); ``author`` when
    someone's action wrote it (shown, not attributed as a message of theirs)."""
    return append(session, author=author, body=body, kind=MessageKind.SYSTEM)


def client_uuid(client_id: str | uuid.UUID) -> uuid.UUID:
    """The sender's ``client_id`` as a UUID, or MessageInvalid: the key a
    resend is recognised by (text messages and files alike)."""
    try:
        return client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError as exc:
        raise MessageInvalid("client_id must be a UUID.", code="invalid_client_id") from exc


def stored(session_id: int, client_id: uuid.UUID) -> Message | None:
    """The message the chat already has under this sender's ``client_id``."""
    return (
        Message.objects.select_related("author")
        .filter(session_id=session_id, client_id=client_id)
        .first()
    )


@dataclass(frozen=True)
class SendResult:
    """A message a sender asked to store: ``created`` is False for a resend
    answered with the message stored the first time."""

    message: Message
    created: bool
    # The message as broadcast (chat.payloads.message_payload), when this call
    # built it: the sender's ack reuses it.
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class TextSent:
    """What :func:`send_text` did. ``place`` is the author's participation as
    it was before the send; ``message`` and ``payload`` (as broadcast) are
    None when nothing was stored: the chat is not open to the author, or
    already has the ``client_id`` (a resend)."""

    place: Participation
    message: Message | None = None
    payload: dict[str, Any] | None = None


def send_text(
    *,
    session_id: int,
    author: User,
    client_id: uuid.UUID,
    body: str,
    except_channel: str | None = None,
) -> TextSent | None:
    """Store a text message of ``author`` if the chat is active, the author
    in its room and, in a WhatsApp chat, the number's 24-hour window open
    (chat.whatsapp_window), and mark it read by its author (what one sends one has
    read). None if ``author`` never took part in the chat. ``except_channel``:
    the socket that sent it, left out of the broadcast (it gets the message
    in its acknowledgement)."""
    now = timezone.now()
    if message_sql.sends_in_one_statement():
        # PostgreSQL: one statement, its own transaction (or part of the
        # caller's), the session row locked while it runs.
        sent = message_sql.send_text_message(
            session_id=session_id,
            author_id=author.pk,
            client_id=client_id,
            body=body,
            created_at=now,
            inactivity_due_at=inactivity_deadline(now),
        )
        if sent is None:
            return None
        place, message_id = sent
    else:
        stored_on_sqlite = _store_on_sqlite(session_id, author, client_id, body, now)
        if stored_on_sqlite is None:
            return None
        place, message_id = stored_on_sqlite
    if message_id is None:
        return TextSent(place)
    # Built once the write lock is free again (SQLite): the other writers,
    # every daphne process's sends, wait for it.
    message = Message(
        id=message_id,
        session_id=session_id,
        seq=place.last_seq + 1,
        client_id=client_id,
        author=author,
        kind=MessageKind.TEXT,
        body=body,
        created_at=now,
        delivery_status=place.delivery_status,
    )
    message._state.adding = False
    message._state.db = transaction.get_connection().alias
    payload = broadcasts.message_created(message, except_channel=except_channel)
    return TextSent(place, message, payload)


def _store_on_sqlite(
    session_id: int, author: User, client_id: uuid.UUID, body: str, now: datetime
) -> tuple[Participation, int | None] | None:
    """SQLite: the four statements in one IMMEDIATE transaction, which
    serializes writers. The new message's id, or None when nothing was stored
    (the chat is not open to the author, or has ``client_id`` already)."""
    with transaction.atomic():
        place = message_sql.lock_participation(session_id, author.pk, now=now)
        if place is None:
            return None
        if place.status != SessionStatus.ACTIVE or not place.in_room or not place.window_open:
            return place, None
        # A resend is rare: rather than look for its client_id on every send,
        # the insert skips a client_id the chat already has, and the seq it
        # would have taken stays free (nothing else was written yet).
        seq = place.last_seq + 1
        message_id = message_sql.insert_text_message(
            session_id=session_id,
            seq=seq,
            client_id=client_id,
            author_id=author.pk,
            body=body,
            created_at=now,
            delivery_status=place.delivery_status,
        )
        if message_id is None:
            return place, None
        message_sql.advance_session(
            session_id=session_id,
            seq=seq,
            activity_at=now,
            inactivity_due_at=inactivity_deadline(now),
        )
        message_sql.mark_read_up_to(participant_id=place.participant_id, seq=seq)
        return place, message_id


def seq_for_bulk_lines() -> dict[str, Any]:
    """The column change of a bulk UPDATE that takes one seq per row for
    :func:`bulk_lines` (the row's new ``last_seq`` is its line's seq)."""
    return {"last_seq": F("last_seq") + 1}


def bulk_lines(
    rows: Iterable[dict[str, Any]],
    body_for: Callable[[dict[str, Any]], str],
    now: datetime,
    *,
    delivery_status: str = "",
) -> list[Message]:
    """One system line per row (``pk`` and ``last_seq`` as the bulk UPDATE
    of :func:`seq_for_bulk_lines` left them), in one INSERT, with their ids.
    Broadcast by the sweep, which announces each chat's line with its new
    state. ``delivery_status``: ``queued`` for lines a provider sends to the
    client (the caller queues the sends)."""
    return Message.objects.bulk_create(
        Message(
            session_id=row["pk"],
            seq=row["last_seq"],
            client_id=uuid.uuid4(),
            author=None,
            kind=MessageKind.SYSTEM,
            body=body_for(row),
            created_at=now,
            delivery_status=delivery_status,
        )
        for row in rows
    )
