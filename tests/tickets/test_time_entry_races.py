"""The same time entry sent several times at once (a browser resend racing
the first try): one row. Only PostgreSQL runs the transactions truly side by
side (SQLite serializes writers)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections

from tests.factories import AgentFactory, TicketFactory, client_user
from tickets.models import TimeEntry
from tickets.services import time_entry_add

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the time entry race is tested on PostgreSQL")


def test_identical_time_entries_at_once_store_one() -> None:
    agent = AgentFactory()
    ticket = TicketFactory(contact=client_user(full_name="Alice Client").contact)
    client_id = uuid.uuid4()
    barrier = threading.Barrier(4)
    entry_ids: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def add() -> None:
        try:
            barrier.wait(timeout=10)
            entry = time_entry_add(
                ticket=ticket, agent=agent, minutes=15, note="chat", client_id=client_id
            )
            with lock:
                entry_ids.append(entry.pk)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(entry_ids) == 4 and len(set(entry_ids)) == 1
    assert TimeEntry.objects.filter(ticket=ticket).count() == 1
