"""The SQL of storing one chat message: the hot path of chat, used only by
the message writer (chat.messages.send_text).

``message_send`` runs once per message, and on the benchmark's VM the
ORM spent about 1.4 of its 1.8 ms of CPU building and compiling its queries
(select_related, savepoint, save()), against 0.15 ms in the database itself
(docs/performance.md, "Hand-written send SQL"). These are the statements,
written once: four for SQLite, run in one IMMEDIATE transaction, and on
PostgreSQL the same work as one statement. Table and column names
come from the models, values go through the fields' own conversions, so a
renamed field or a changed column type cannot drift from this file unseen
(tests/chat/test_message_sql.py compares the rows with what the ORM reads, on
both databases; tests/chat/test_races.py races sends on PostgreSQL).

The rules stay in chat.messages and chat.services; this module only reads and
writes. What it must decide in SQL (a message goes only into an active chat
whose author is in the room, and free text into a WhatsApp chat only within
the number's window: chat.whatsapp_window) it reads in the same locked
statement, so that the caller can tell why nothing was stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone

from chat import whatsapp_window
from chat.models import (
    Channel,
    ChatSession,
    DeliveryStatus,
    Message,
    MessageKind,
    Participant,
    PhoneClient,
    SessionStatus,
    sent_delivery_status,
)


@dataclass(frozen=True, slots=True)
class Participation:
    """The author's place in a chat and the chat's state, read under the
    session's lock."""

    participant_id: int
    in_room: bool
    status: str
    last_seq: int
    channel: str
    # False only in a WhatsApp chat whose number's 24-hour window has closed.
    window_open: bool = True

    @property
    def delivery_status(self) -> str:
        """What a message sent here starts as (chat.models.sent_delivery_status)."""
        return sent_delivery_status(self.channel)


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Any], field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _participation_select(lock: str) -> str:
    """The author's participation and the chat's state; ``lock`` ends it.
    ``window_open`` is 1 unless the chat is on WhatsApp and its number's last
    message came no later than %(window_start)s (the phone client's row, by
    its unique user column; a portal client has none)."""
    p, s, pc = Participant, ChatSession, PhoneClient
    return (
        f"SELECT p.{_column(p, 'id')} AS participant_id, p.{_column(p, 'left_at')} AS left_at,"
        f" s.{_column(s, 'status')} AS status, s.{_column(s, 'last_seq')} AS last_seq,"
        f" s.{_column(s, 'channel')} AS channel,"
        f" CASE WHEN s.{_column(s, 'channel')} <> %(whatsapp)s"
        f" OR pc.{_column(pc, 'whatsapp_received_at')} > %(window_start)s"
        f" THEN 1 ELSE 0 END AS window_open"
        f" FROM {_table(p)} p INNER JOIN {_table(s)} s"
        f" ON s.{_column(s, 'id')} = p.{_column(p, 'session')}"
        f" LEFT JOIN {_table(pc)} pc ON pc.{_column(pc, 'user')} = s.{_column(s, 'client')}"
        f" WHERE p.{_column(p, 'session')} = %(session)s AND p.{_column(p, 'user')} = %(author)s"
        f"{lock}"
    )


def _window_params(now: datetime) -> dict[str, Any]:
    """The values :func:`_participation_select` compares with. Its
    ``window_open`` is chat.whatsapp_window.session_is_open in SQL, kept
    there so a send reads it in its one locked statement: keep them in step."""
    start = whatsapp_window.opened_after(now)
    return {
        "whatsapp": Channel.WHATSAPP.value,
        "window_start": _db_value(PhoneClient, "whatsapp_received_at", start),
    }


def _message_insert(values: str, returning: str) -> str:
    """INSERT of a text message. A resend (same client_id) inserts nothing and
    returns no row: no savepoint, no IntegrityError to catch. Any other
    conflict still raises."""
    m = Message
    columns = ", ".join(
        _column(m, name)
        for name in (
            "session",
            "seq",
            "client_id",
            "author",
            "kind",
            "body",
            "created_at",
            "delivery_status",
        )
    )
    return (
        f"INSERT INTO {_table(m)} ({columns}) {values}"
        f" ON CONFLICT ({_column(m, 'session')}, {_column(m, 'client_id')}) DO NOTHING"
        f" RETURNING {returning}"
    )


@cache
def _statements(vendor: str) -> dict[str, str]:
    """The four statements of a send in a transaction (SQLite), built once
    per database vendor."""
    p, s, m = Participant, ChatSession, Message
    # PostgreSQL: lock the session row (the order of one chat's sends).
    # SQLite: the IMMEDIATE transaction has taken the write lock already.
    return {
        "lock": _participation_select(" FOR UPDATE OF s" if vendor == "postgresql" else ""),
        "insert": _message_insert(
            "VALUES (%(session)s, %(seq)s, %(client_id)s, %(author)s, %(kind)s, %(body)s, %(now)s,"
            " %(delivery)s)",
            _column(m, "id"),
        ),
        "advance": (
            f"UPDATE {_table(s)} SET {_column(s, 'last_seq')} = %s,"
            f" {_column(s, 'last_activity_at')} = %s, {_column(s, 'inactivity_due_at')} = %s,"
            f" {_column(s, 'inactive_at')} = NULL WHERE {_column(s, 'id')} = %s"
        ),
        "read": (
            f"UPDATE {_table(p)} SET {_column(p, 'last_read_seq')} = %s"
            f" WHERE {_column(p, 'id')} = %s AND {_column(p, 'last_read_seq')} < %s"
        ),
    }


@cache
def _one_statement() -> str:
    """PostgreSQL: the whole send as one statement (data-modifying CTEs), so
    a message costs one round trip instead of six (BEGIN, the four, COMMIT).
    Every round trip woke daphne's database thread, which then took the GIL
    from the event loop: with six of them per message the loop of a busy
    process starved (docs/performance.md, "Hand-written send SQL").

    ``place`` locks the session row (a concurrent send of the same chat waits,
    then reads the seq that send took); ``new`` inserts only into an active
    chat whose author is in the room, and nothing for a client_id the chat
    has; the two updates follow only an insert. The result says which."""
    p, s, m = Participant, ChatSession, Message
    return (
        f"WITH place AS ({_participation_select(' FOR UPDATE OF s')}"
        f"), new AS ("
        + _message_insert(
            "SELECT %(session)s, place.last_seq + 1, %(client_id)s, %(author)s, %(kind)s,"
            " %(body)s, %(now)s,"
            " CASE WHEN place.channel = %(web)s THEN '' ELSE %(queued)s END FROM place"
            " WHERE place.status = %(active)s AND place.left_at IS NULL"
            " AND place.window_open = 1",
            f"{_column(m, 'id')} AS id, {_column(m, 'seq')} AS seq",
        )
        + f"), advanced AS ("
        f" UPDATE {_table(s)} SET {_column(s, 'last_seq')} = new.seq,"
        f" {_column(s, 'last_activity_at')} = %(now)s,"
        f" {_column(s, 'inactivity_due_at')} = %(inactivity_due_at)s,"
        f" {_column(s, 'inactive_at')} = NULL"
        f" FROM new WHERE {_table(s)}.{_column(s, 'id')} = %(session)s"
        f"), marked_read AS ("
        f" UPDATE {_table(p)} SET {_column(p, 'last_read_seq')} = new.seq"
        f" FROM new, place WHERE {_table(p)}.{_column(p, 'id')} = place.participant_id"
        f" AND {_table(p)}.{_column(p, 'last_read_seq')} < new.seq"
        f")"
        f" SELECT place.participant_id, place.left_at, place.status, place.last_seq,"
        f" place.channel, place.window_open, new.id"
        f" FROM place LEFT JOIN new ON TRUE"
    )


def sends_in_one_statement() -> bool:
    """Whether this database takes a send as one statement (PostgreSQL)."""
    return connection.vendor == "postgresql"


def send_text_message(
    *,
    session_id: int,
    author_id: int,
    client_id: uuid.UUID,
    body: str,
    created_at: datetime,
    inactivity_due_at: datetime,
) -> tuple[Participation, int | None] | None:
    """PostgreSQL only (see _one_statement): the author's participation as it
    was before the send, and the new message's id (None: nothing stored, as
    the chat is not open to this author or already has this client_id); None
    if the user never took part in the chat. Its seq is last_seq + 1."""
    with connection.cursor() as cursor:
        cursor.execute(
            _one_statement(),
            {
                "session": session_id,
                "author": author_id,
                "client_id": _db_value(Message, "client_id", client_id),
                "kind": MessageKind.TEXT.value,
                "body": body,
                "now": _db_value(Message, "created_at", created_at),
                "inactivity_due_at": _db_value(ChatSession, "inactivity_due_at", inactivity_due_at),
                "active": SessionStatus.ACTIVE.value,
                "web": Channel.WEB.value,
                "queued": DeliveryStatus.QUEUED.value,
                **_window_params(created_at),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    participant_id, left_at, status, last_seq, channel, window_open, message_id = row
    place = Participation(
        participant_id, left_at is None, status, last_seq, channel, bool(window_open)
    )
    return place, message_id


def _db_value(model: type[Any], field: str, value: Any) -> Any:
    return model._meta.get_field(field).get_db_prep_value(value, connection)


def lock_participation(
    session_id: int, user_id: int, *, now: datetime | None = None
) -> Participation | None:
    """The author's participation in the chat, the session locked; None if
    the user never took part in it. ``now``: the instant the WhatsApp window
    is judged at (default: now)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _statements(connection.vendor)["lock"],
            {
                "session": session_id,
                "author": user_id,
                **_window_params(now or timezone.now()),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    participant_id, left_at, status, last_seq, channel, window_open = row
    return Participation(
        participant_id, left_at is None, status, last_seq, channel, bool(window_open)
    )


def insert_text_message(
    *,
    session_id: int,
    seq: int,
    client_id: uuid.UUID,
    author_id: int,
    body: str,
    created_at: datetime,
    delivery_status: str = "",
) -> int | None:
    """The new row's id, or None when the chat already has this client_id."""
    with connection.cursor() as cursor:
        cursor.execute(
            _statements(connection.vendor)["insert"],
            {
                "session": session_id,
                "seq": seq,
                "client_id": _db_value(Message, "client_id", client_id),
                "author": author_id,
                "kind": MessageKind.TEXT.value,
                "body": body,
                "now": _db_value(Message, "created_at", created_at),
                "delivery": delivery_status,
            },
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def advance_session(
    *, session_id: int, seq: int, activity_at: datetime, inactivity_due_at: datetime
) -> None:
    """The session's last seq and activity; the inactivity clock restarts."""
    with connection.cursor() as cursor:
        cursor.execute(
            _statements(connection.vendor)["advance"],
            [
                seq,
                _db_value(ChatSession, "last_activity_at", activity_at),
                _db_value(ChatSession, "inactivity_due_at", inactivity_due_at),
                session_id,
            ],
        )


def mark_read_up_to(*, participant_id: int, seq: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_statements(connection.vendor)["read"], [seq, participant_id, seq])
