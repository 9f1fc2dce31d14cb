"""The same upload sent several times at once (a browser retry racing the
first request): one message, one row, one file. Only PostgreSQL runs the
transactions truly side by side (SQLite serializes writers).

A retry that comes after the first request committed is answered by the
check before the file is written; only one that raced it writes its file,
waits for the chat's row lock, finds the message stored and deletes its file
again. Over the rounds that must happen at least once, or the race was never
run."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from chat import services
from chat.files.services import attachment_send
from chat.models import ChatAttachment, ChatKind, Message, MessageKind
from presence.models import PresenceStatus
from tests.chat.files_helpers import png_bytes, stored_files, upload
from tests.factories import TicketFactory
from tests.personas import AGENT1, ALICE
from tests.races import Statements, at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5  # of four identical uploads at once


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the upload race is tested on PostgreSQL")


def test_two_identical_uploads_at_once_store_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chat.broadcasts._deliver", lambda frames: None)
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    ticket = TicketFactory(contact=alice.contact)
    session = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    services.session_join(session_id=session.pk, agent=agent)
    statements = Statements()
    raced = 0
    for number in range(1, ROUNDS + 1):
        client_id = uuid.uuid4()

        def send(client_id: uuid.UUID = client_id) -> tuple[int, bool]:
            result = attachment_send(
                session_id=session.pk,
                author=alice,
                client_id=client_id,
                upload=upload("shot.png", png_bytes()),
            )
            return result.message.pk, result.created

        statements.clear()
        results = at_once(*[statements.watch(send)] * 4)  # fails the test on any error

        assert len({pk for pk, _ in results}) == 1
        assert sorted(created for _, created in results) == [False, False, False, True]
        assert Message.objects.filter(session=session, kind=MessageKind.FILE).count() == number
        assert ChatAttachment.objects.count() == number
        assert len(stored_files()) == number
        # Every upload that got past the first check locked the chat's row:
        # more than one means a retry overlapped the first request.
        raced += statements.count("FOR UPDATE") > 1
    print(f"upload rounds where a retry raced the first request: {raced} of {ROUNDS}")
    assert raced, "no retry ever got past the first check: the uploads never overlapped"
