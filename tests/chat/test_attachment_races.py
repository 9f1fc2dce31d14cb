"""The same upload sent twice at once (a browser retry racing the first
request): one message, one row, one file. Only PostgreSQL runs the two
transactions truly side by side (SQLite serializes writers)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from chat import services
from chat.attachments import attachment_send
from chat.models import ChatAttachment, ChatKind, Message, MessageKind
from presence.models import PresenceStatus
from tests.chat.files_helpers import png_bytes, stored_files, upload
from tests.factories import TicketFactory
from tests.personas import AGENT1, ALICE
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the upload race is tested on PostgreSQL")


def test_two_identical_uploads_at_once_store_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chat.events._deliver", lambda frames: None)
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    ticket = TicketFactory(contact=alice.contact)
    session = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    services.session_join(session_id=session.pk, agent=agent)
    client_id = uuid.uuid4()

    def send() -> tuple[int, bool]:
        result = attachment_send(
            session_id=session.pk,
            author=alice,
            client_id=client_id,
            upload=upload("shot.png", png_bytes()),
        )
        return result.message.pk, result.created

    results = at_once(*[send] * 4)  # fails the test on any error

    assert len({pk for pk, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert Message.objects.filter(session=session, kind=MessageKind.FILE).count() == 1
    assert ChatAttachment.objects.count() == 1
    assert len(stored_files()) == 1
