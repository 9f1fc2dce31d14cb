"""The API runs a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import World, login, upload
from tickets import services
from tickets.models import Ticket, TicketStatus


def _add_tickets(world: World, count: int) -> None:
    contact = world.alice.contact
    Ticket.objects.bulk_create(
        Ticket(
            subject=f"Bulk {n}",
            company=contact.company,
            contact=contact,
            # Every related row the list shows is filled in, so a missing join shows.
            assignee=world.agent if n % 2 else world.agent2,
            status=TicketStatus.ASSIGNED,
        )
        for n in range(count)
    )


def _queries(user, path: str) -> int:  # type: ignore[no-untyped-def]
    client = login(user)
    client.get(path)  # warm up: session and content types are cached after this
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["agent", "alice"])
def test_ticket_list_query_count_is_fixed(world: World, who: str) -> None:
    _add_tickets(world, 10)
    user = getattr(world, who)
    with_ten = _queries(user, "/api/tickets/")
    _add_tickets(world, 990)
    assert Ticket.objects.count() >= 1000
    assert _queries(user, "/api/tickets/") == with_ten
    assert _queries(user, "/api/tickets/?status=assigned") == with_ten


@pytest.mark.parametrize("who", ["agent", "alice"])
def test_notes_and_detail_query_counts_are_fixed(world: World, who: str) -> None:
    user = getattr(world, who)
    ticket = world.acme_ticket
    notes_path = f"/api/tickets/{ticket.pk}/notes/"
    detail_path = f"/api/tickets/{ticket.pk}/"
    few_notes, few_detail = _queries(user, notes_path), _queries(user, detail_path)
    for n in range(15):
        services.note_add(
            ticket=ticket,
            author=world.agent2 if n % 2 else world.agent,
            body=f"Note {n}",
            is_internal=bool(n % 3 == 0),
            files=[upload(f"file{n}.txt"), upload(f"more{n}.png")],
        )
    assert _queries(user, notes_path) == few_notes
    assert _queries(user, detail_path) == few_detail
