"""A small helpdesk for the view tests: the demo people (tests/personas.py),
their two companies, and tickets with public and internal notes and files."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.base import ContentFile

from accounts.models import Company, User
from tests import personas
from tests.factories import TicketFactory
from tickets import services
from tickets.models import Ticket, TicketAttachment, TicketNote, TimeEntry


@dataclass
class World:
    acme: Company
    globex: Company
    alice: User  # client of Acme, owns alice_ticket
    bob: User  # another client of Acme (other contact: must not see Alice's ticket)
    carol: User  # client of Globex
    agent: User  # agent1
    other_agent: User  # agent2
    alice_ticket: Ticket
    carol_ticket: Ticket
    public_note: TicketNote
    internal_note: TicketNote
    public_file: TicketAttachment
    internal_file: TicketAttachment
    carol_file: TicketAttachment


def build_world() -> World:
    acme = personas.company(personas.ACME)
    globex = personas.company(personas.GLOBEX)
    alice = personas.ALICE.create(company=acme)
    bob = personas.BOB.create(company=acme)
    carol = personas.CAROL.create(company=globex)
    agent = personas.AGENT1.create()
    other_agent = personas.AGENT2.create()
    alice_ticket = TicketFactory(contact=alice.contact, subject="Printer prints blank pages")
    carol_ticket = TicketFactory(contact=carol.contact, subject="Shared drive is gone")
    public_note = services.note_add(
        ticket=alice_ticket,
        author=agent,
        body="PUBLIC-NOTE-BODY",
        files=[ContentFile(b"public bytes", name="photo.png")],
    )
    internal_note = services.note_add(
        ticket=alice_ticket,
        author=agent,
        body="INTERNAL-NOTE-BODY",
        is_internal=True,
        files=[ContentFile(b"secret bytes", name="secret-notes.txt")],
    )
    carol_note = services.note_add(
        ticket=carol_ticket,
        author=carol,
        body="Carol's note",
        files=[ContentFile(b"carol bytes", name="carol.pdf")],
    )
    return World(
        acme=acme,
        globex=globex,
        alice=alice,
        bob=bob,
        carol=carol,
        agent=agent,
        other_agent=other_agent,
        alice_ticket=alice_ticket,
        carol_ticket=carol_ticket,
        public_note=public_note,
        internal_note=internal_note,
        public_file=public_note.attachments.get(),
        internal_file=internal_note.attachments.get(),
        carol_file=carol_note.attachments.get(),
    )


def snapshot() -> tuple[object, ...]:
    """Everything a ticket view could write; equal before and after means
    nothing changed."""
    return (
        sorted(
            Ticket.objects.values_list(
                "pk", "subject", "status", "assignee_id", "closed_at", "updated_at"
            )
        ),
        sorted(TicketNote.objects.values_list("pk", "ticket_id", "is_internal", "body")),
        sorted(TicketAttachment.objects.values_list("pk", "ticket_id", "file")),
        sorted(TimeEntry.objects.values_list("pk", "ticket_id", "minutes")),
    )
