"""A small helpdesk for the view tests: two companies, their clients, an
agent, and tickets with public and internal notes and files."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.base import ContentFile

from accounts.models import Company, User
from tests.factories import AgentFactory, CompanyFactory, TicketFactory, client_user
from tickets import services
from tickets.models import Ticket, TicketAttachment, TicketNote, TimeEntry


@dataclass
class World:
    acme: Company
    globex: Company
    alice: User  # client of Acme, owns alice_ticket
    bob: User  # another client of Acme (other contact: must not see Alice's ticket)
    carol: User  # client of Globex
    agent: User
    other_agent: User
    alice_ticket: Ticket
    carol_ticket: Ticket
    public_note: TicketNote
    internal_note: TicketNote
    public_file: TicketAttachment
    internal_file: TicketAttachment
    carol_file: TicketAttachment


def build_world() -> World:
    acme = CompanyFactory(name="Acme")
    globex = CompanyFactory(name="Globex")
    alice = client_user(acme, email="alice@acme.example", full_name="Alice Anders")
    bob = client_user(acme, email="bob@acme.example", full_name="Bob Brown")
    carol = client_user(globex, email="carol@globex.example", full_name="Carol Chen")
    agent = AgentFactory(email="agent1@example.com", full_name="Ada Agent")
    other_agent = AgentFactory(email="agent2@example.com", full_name="Otto Agent")
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
