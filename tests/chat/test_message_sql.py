"""chat.message_sql: the hand-written statements of message_send write what the
ORM would have written, on SQLite and on PostgreSQL (the suite runs on both)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from chat import message_sql, services
from chat.models import (
    ChatKind,
    ChatSession,
    Message,
    MessageKind,
    Participant,
    ParticipantRole,
    SessionStatus,
)

pytestmark = pytest.mark.django_db


def active_chat(alice, ticket, agent) -> ChatSession:  # type: ignore[no-untyped-def]
    session = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    return services.session_join(session_id=session.pk, agent=agent)


def test_lock_reads_the_participation_and_the_session(alice, alice_ticket, agent1, agent2):
    session = active_chat(alice, alice_ticket, agent1)
    with transaction.atomic():
        place = message_sql.lock_participation(session.pk, alice.pk)
        assert message_sql.lock_participation(session.pk, agent2.pk) is None
    participant = Participant.objects.get(session=session, user=alice)
    assert place == message_sql.Participation(
        participant_id=participant.pk,
        in_room=True,
        status=SessionStatus.ACTIVE,
        last_seq=ChatSession.objects.get(pk=session.pk).last_seq,
        channel="web",
    )
    Participant.objects.filter(pk=participant.pk).update(left_at=timezone.now())
    with transaction.atomic():
        assert message_sql.lock_participation(session.pk, alice.pk).in_room is False  # type: ignore[union-attr]


def test_send_writes_what_the_orm_reads_back(alice, alice_ticket, agent1, settings):
    session = active_chat(alice, alice_ticket, agent1)
    ChatSession.objects.filter(pk=session.pk).update(inactive_at=timezone.now())
    client_id = uuid.uuid4()
    before = timezone.now()
    result = services.message_send(
        session_id=session.pk, author=alice, client_id=client_id, body="Ünïcode & <b>"
    )
    stored = Message.objects.select_related("author").get(pk=result.message.pk)
    for field in ("session_id", "seq", "client_id", "author_id", "kind", "body", "created_at"):
        assert getattr(stored, field) == getattr(result.message, field), field
    assert stored.client_id == client_id and stored.kind == MessageKind.TEXT
    assert stored.read_at is None and stored.attachment_id is None
    assert stored.created_at >= before
    fresh = ChatSession.objects.get(pk=session.pk)
    assert fresh.last_seq == stored.seq
    assert fresh.last_activity_at == stored.created_at
    assert fresh.inactivity_due_at == stored.created_at + timedelta(
        seconds=settings.INACTIVITY_SECONDS
    )
    assert fresh.inactive_at is None
    author = Participant.objects.get(session=session, user=alice)
    assert author.last_read_seq == stored.seq
    # The other side has not read it.
    other = Participant.objects.get(session=session, role=ParticipantRole.AGENT)
    assert other.last_read_seq < stored.seq


def test_insert_skips_a_client_id_the_chat_has(alice, alice_ticket, agent1):
    session = active_chat(alice, alice_ticket, agent1)
    first = services.message_send(
        session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="one"
    )
    with transaction.atomic():
        skipped = message_sql.insert_text_message(
            session_id=session.pk,
            seq=first.message.seq + 1,
            client_id=first.message.client_id,
            author_id=alice.pk,
            body="one again",
            created_at=timezone.now(),
        )
    assert skipped is None
    assert Message.objects.filter(session=session, client_id=first.message.client_id).count() == 1


def _indexed_columns(model: type) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        column
        for info in constraints.values()
        if info["index"] or info["unique"] or info["primary_key"]
        for column in info["columns"] or []
    }


@pytest.mark.parametrize(
    ("model", "updated_fields"),
    [
        (ChatSession, ["last_seq", "last_activity_at", "inactivity_due_at", "inactive_at"]),
        (Participant, ["last_read_seq"]),
    ],
)
def test_a_send_updates_no_indexed_column(model, updated_fields):
    """Each message updates its chat's row and the sender's participant row.
    While none of the columns it sets is indexed, PostgreSQL updates the rows
    in place (HOT) instead of adding an entry to every index of the table
    (docs/performance.md, "HOT updates of the session row")."""
    updated_columns = {model._meta.get_field(name).column for name in updated_fields}
    assert updated_columns.isdisjoint(_indexed_columns(model))


@pytest.mark.postgres
def test_session_pages_keep_room_for_in_place_updates():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE relname = %s", [ChatSession._meta.db_table]
        )
        (options,) = cursor.fetchone()
    assert "fillfactor=80" in (options or [])
