"""The same time entry sent several times at once (a browser resend racing
the first try): one row. Only PostgreSQL runs the transactions truly side by
side (SQLite serializes writers).

A resend that comes after the first try committed is answered by the lookup;
only one that raced it reaches the insert and has it refused by the unique
constraint. Over the rounds that refusal must occur at least once, or the
race was never run."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, connection

from tests.factories import TicketFactory
from tests.personas import AGENT1, ALICE
from tests.races import Statements, at_once
from tickets.models import TimeEntry
from tickets.services import time_entry_add

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 10  # of four identical tries at once


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the time entry race is tested on PostgreSQL")


def test_identical_time_entries_at_once_store_one() -> None:
    agent = AGENT1.create()
    ticket = TicketFactory(contact=ALICE.create().contact)
    statements = Statements()
    insert = f'INSERT INTO "{TimeEntry._meta.db_table}"'
    raced = 0
    for _ in range(ROUNDS):
        client_id = uuid.uuid4()

        def add(client_id: uuid.UUID = client_id) -> int:
            entry = time_entry_add(
                ticket=ticket, agent=agent, minutes=15, note="chat", client_id=client_id
            )
            return entry.pk

        statements.clear()
        entry_ids = at_once(*[statements.watch(add)] * 4)  # fails the test on any error

        assert len(entry_ids) == 4 and len(set(entry_ids)) == 1
        assert TimeEntry.objects.filter(ticket=ticket, client_id=client_id).count() == 1
        raced += statements.count(insert, raised=IntegrityError) > 0
    assert TimeEntry.objects.filter(ticket=ticket).count() == ROUNDS
    print(f"time entry rounds where a resend raced the first try: {raced} of {ROUNDS}")
    assert raced, "no resend ever reached the insert: the tries never overlapped"
