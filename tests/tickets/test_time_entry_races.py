"""The same time entry sent several times at once (a browser resend racing
the first try): one row. Only PostgreSQL runs the transactions truly side by
side (SQLite serializes writers)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from tests.factories import TicketFactory
from tests.personas import AGENT1, ALICE
from tests.races import at_once
from tickets.models import TimeEntry
from tickets.services import time_entry_add

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the time entry race is tested on PostgreSQL")


def test_identical_time_entries_at_once_store_one() -> None:
    agent = AGENT1.create()
    ticket = TicketFactory(contact=ALICE.create().contact)
    client_id = uuid.uuid4()

    def add() -> int:
        entry = time_entry_add(
            ticket=ticket, agent=agent, minutes=15, note="chat", client_id=client_id
        )
        return entry.pk

    entry_ids = at_once(*[add] * 4)  # fails the test on any error

    assert len(entry_ids) == 4 and len(set(entry_ids)) == 1
    assert TimeEntry.objects.filter(ticket=ticket).count() == 1
