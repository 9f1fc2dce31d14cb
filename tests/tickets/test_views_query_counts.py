"""List pages cost the same number of queries with 10 tickets or 1,000."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Contact, User
from tests.personas import AGENT1, ALICE
from tickets.models import Ticket, TicketNote, TicketStatus

pytestmark = pytest.mark.django_db


def _add_tickets(contact: Contact, count: int, *, assignee: User | None = None) -> None:
    tickets = Ticket.objects.bulk_create(
        Ticket(
            subject=f"Ticket {n}",
            company_id=contact.company_id,
            contact=contact,
            status=TicketStatus.ASSIGNED if assignee else TicketStatus.UNASSIGNED,
            assignee=assignee,
        )
        for n in range(count)
    )
    # Some notes too, so per-row note lookups would show up.
    TicketNote.objects.bulk_create(
        TicketNote(ticket=t, author=assignee, body="n", is_internal=bool(i % 2))
        for i, t in enumerate(tickets[:100])
    )


def _count(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("status", ["unassigned", "assigned"])
def test_console_ticket_list(client, status):
    agent = AGENT1.create()
    contact = ALICE.create().contact
    assignee = agent if status == "assigned" else None
    client.force_login(agent)
    url = f"{reverse('console:tickets')}?status={status}"

    _add_tickets(contact, 10, assignee=assignee)
    small = _count(client, url)
    _add_tickets(contact, 990, assignee=assignee)
    large = _count(client, url)

    assert small == large
    assert large <= 8


def test_portal_ticket_list(client):
    alice = ALICE.create()
    client.force_login(alice)
    url = reverse("portal:home")

    _add_tickets(alice.contact, 10)
    small = _count(client, url)
    _add_tickets(alice.contact, 990)
    large = _count(client, url)

    assert small == large
    # One of them: the chats an engineer started by email for her to join.
    assert large <= 9


def test_ticket_pages_do_not_grow_with_notes(client):
    """Detail pages: notes, their authors and files are fetched in bulk."""
    agent = AGENT1.create()
    alice = ALICE.create()
    _add_tickets(alice.contact, 1, assignee=agent)
    ticket = Ticket.objects.get()

    client.force_login(agent)
    console = reverse("console:ticket_detail", args=[ticket.pk])
    small_console = _count(client, console)
    client.force_login(alice)
    portal = reverse("portal:ticket_detail", args=[ticket.pk])
    small_portal = _count(client, portal)

    TicketNote.objects.bulk_create(
        TicketNote(ticket=ticket, author=agent if n % 2 else alice, body=f"note {n}")
        for n in range(200)
    )
    client.force_login(agent)
    assert _count(client, console) == small_console
    client.force_login(alice)
    assert _count(client, portal) == small_portal
