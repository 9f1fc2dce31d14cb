"""A small world for the API tests: the demo people (tests/personas.py), their
two companies, and tickets with public and internal notes and files."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Company, User
from tests import personas
from tests.factories import TicketFactory
from tickets import services
from tickets.models import Ticket

# Markers that must never appear in a client's response text.
INTERNAL_NOTE_TEXT = "INTERNAL-ONLY engineer musings 7f3a"
INTERNAL_FILE_NAME = "internal-secret-plan.txt"
PUBLIC_NOTE_TEXT = "Public reply: we are on it"
PUBLIC_FILE_NAME = "public-screenshot.png"


@dataclass
class World:
    acme: Company
    globex: Company
    alice: User  # client of Acme, owns acme_ticket
    bob: User  # another client of Acme (tickets are per contact)
    carol: User  # client of Globex, owns globex_ticket
    agent: User  # agent1
    agent2: User
    acme_ticket: Ticket
    globex_ticket: Ticket
    closed_ticket: Ticket  # alice's, closed


def upload(name: str, content: bytes = b"data") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    acme = personas.company(personas.ACME)
    globex = personas.company(personas.GLOBEX)
    alice = personas.ALICE.create(company=acme)
    bob = personas.BOB.create(company=acme)
    carol = personas.CAROL.create(company=globex)
    agent = personas.AGENT1.create()
    agent2 = personas.AGENT2.create()
    acme_ticket = TicketFactory(contact=alice.contact, subject="Acme printer on fire")
    globex_ticket = TicketFactory(contact=carol.contact, subject="Globex VPN down")
    closed_ticket = TicketFactory(contact=alice.contact, subject="Old Acme thing")
    services.ticket_close(ticket=closed_ticket, actor=agent)
    for ticket in (acme_ticket, globex_ticket):
        services.note_add(
            ticket=ticket, author=agent, body=PUBLIC_NOTE_TEXT, files=[upload(PUBLIC_FILE_NAME)]
        )
        services.note_add(
            ticket=ticket,
            author=agent,
            body=INTERNAL_NOTE_TEXT,
            is_internal=True,
            files=[upload(INTERNAL_FILE_NAME)],
        )
    return World(
        acme=acme,
        globex=globex,
        alice=alice,
        bob=bob,
        carol=carol,
        agent=agent,
        agent2=agent2,
        acme_ticket=acme_ticket,
        globex_ticket=globex_ticket,
        closed_ticket=closed_ticket,
    )


def login(user: User | None, *, csrf: bool = False) -> APIClient:
    """An API client with a real session (the API's only authentication)."""
    client = APIClient(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client
