"""The SQL of storing one chat message: the hot path of chat.

``services.message_send`` runs once per message, and on the benchmark's VM the
ORM spent about 1.4 of its 1.8 ms of CPU building and compiling its queries
(select_related, savepoint, save()), against 0.15 ms in the database itself
(docs/performance.md, chat benchmark, finding 14). These are the same
statements, written once, for SQLite and PostgreSQL alike. Table and column
names come from the models, values go through the fields' own conversions, so
a renamed field or a changed column type cannot drift from this file unseen
(tests/chat/test_message_sql.py compares the rows with what the ORM reads).

The rules stay in ``services.message_send``; this module only reads and writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from chat.models import ChatSession, Message, MessageKind, Participant


@dataclass(frozen=True, slots=True)
class Participation:
    """The author's place in a chat and the chat's state, read under the
    session's lock."""

    participant_id: int
    in_room: bool
    status: str
    last_seq: int


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Any], field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


@cache
def _statements(vendor: str) -> dict[str, str]:
    """The four statements, built once per database vendor."""
    p, s, m = Participant, ChatSession, Message
    # PostgreSQL: lock the session row (the order of one chat's sends).
    # SQLite: the IMMEDIATE transaction has taken the write lock already.
    lock = f" FOR UPDATE OF {_table(s)}" if vendor == "postgresql" else ""
    message_columns = ", ".join(
        _column(m, name)
        for name in ("session", "seq", "client_id", "author", "kind", "body", "created_at")
    )
    return {
        "lock": (
            f"SELECT {_table(p)}.{_column(p, 'id')}, {_table(p)}.{_column(p, 'left_at')},"
            f" {_table(s)}.{_column(s, 'status')}, {_table(s)}.{_column(s, 'last_seq')}"
            f" FROM {_table(p)} INNER JOIN {_table(s)}"
            f" ON {_table(s)}.{_column(s, 'id')} = {_table(p)}.{_column(p, 'session')}"
            f" WHERE {_table(p)}.{_column(p, 'session')} = %s"
            f" AND {_table(p)}.{_column(p, 'user')} = %s{lock}"
        ),
        # A resend (same client_id) inserts nothing and returns no row: no
        # savepoint, no IntegrityError to catch. Any other conflict still raises.
        "insert": (
            f"INSERT INTO {_table(m)} ({message_columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            f" ON CONFLICT ({_column(m, 'session')}, {_column(m, 'client_id')}) DO NOTHING"
            f" RETURNING {_column(m, 'id')}"
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


def _db_value(model: type[Any], field: str, value: Any) -> Any:
    return model._meta.get_field(field).get_db_prep_value(value, connection)


def lock_participation(session_id: int, user_id: int) -> Participation | None:
    """The author's participation in the chat, the session locked; None if
    the user never took part in it."""
    with connection.cursor() as cursor:
        cursor.execute(_statements(connection.vendor)["lock"], [session_id, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    participant_id, left_at, status, last_seq = row
    return Participation(participant_id, left_at is None, status, last_seq)


def insert_text_message(
    *,
    session_id: int,
    seq: int,
    client_id: uuid.UUID,
    author_id: int,
    body: str,
    created_at: datetime,
) -> int | None:
    """The new row's id, or None when the chat already has this client_id."""
    with connection.cursor() as cursor:
        cursor.execute(
            _statements(connection.vendor)["insert"],
            [
                session_id,
                seq,
                _db_value(Message, "client_id", client_id),
                author_id,
                MessageKind.TEXT.value,
                body,
                _db_value(Message, "created_at", created_at),
            ],
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
