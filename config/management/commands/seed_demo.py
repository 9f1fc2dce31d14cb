"""``manage.py seed_demo``: the demo helpdesk `make run` starts with (people,
tickets, office hours, the chat queue and templates, approved WhatsApp
templates, and a contact reached by phone).

Idempotent: every row is looked up by a stable key first (email, company
name, ticket subject + contact) and only created when missing; an existing row
is never modified, so a second run changes nothing and an administrator's
edits to demo rows survive. Everything is written in one transaction, so an
interrupted run leaves nothing half-seeded (no ticket without its notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import STAFF_ROLES, Company, Contact, Role, User
from chat.models import ChatQueue, ChatSettings, ChatTemplate, TemplateKind, WhatsAppTemplate
from officehours.models import Schedule, Weekday, WeeklyInterval
from presence.models import AgentPresence, PresenceStatus
from tickets import services as ticket_services
from tickets.models import Ticket

PASSWORD = "switchboard"

# email, full name, role
STAFF: list[tuple[str, str, Role]] = [
    ("admin@example.com", "Alex Morgan", Role.ADMINISTRATOR),
    ("supervisor@example.com", "Sam Rivera", Role.SUPERVISOR),
    ("agent1@example.com", "Priya Shah", Role.AGENT),
    ("agent2@example.com", "Tom Becker", Role.AGENT),
]

# email, full name, company, phone
CLIENTS: list[tuple[str, str, str, str]] = [
    ("alice@acme.example", "Alice Turner", "Acme", "+44 20 7946 0011"),
    ("bob@acme.example", "Bob Nakamura", "Acme", "+44 20 7946 0012"),
    ("carol@globex.example", "Carol Jensen", "Globex", "+1 212 555 0143"),
    ("dave@globex.example", "Dave Okafor", "Globex", "+1 212 555 0178"),
]

# name, company, phone, email: contacts without a portal login, reached by
# phone (Message customer on their tickets; the fake provider of
# `SWITCHBOARD_FAKE_PROVIDERS=1 make run` writes as them from their number).
PHONE_CONTACTS: list[tuple[str, str, str, str]] = [
    ("Erin Walsh", "Acme", "+44 7700 900456", "erin@acme.example"),
]


@dataclass(frozen=True)
class DemoNote:
    author: str  # email
    body: str
    internal: bool = False


@dataclass(frozen=True)
class DemoTicket:
    contact: str  # email of the client
    subject: str
    description: str
    days_ago: int
    notes: list[DemoNote] = field(default_factory=list)
    assignee: str | None = None
    minutes: int = 0  # time logged by the assignee
    closed: bool = False


TICKETS: list[DemoTicket] = [
    DemoTicket(
        contact="alice@acme.example",
        subject="Outlook keeps asking for my password",
        description=(
            "Since this morning Outlook pops up a sign-in window every few minutes. "
            "I type my password and it comes back a little later. Webmail works fine."
        ),
        days_ago=1,
        assignee="agent1@example.com",
        minutes=20,
        notes=[
            DemoNote("alice@acme.example", "It happens on my laptop and on my phone."),
            DemoNote(
                "agent1@example.com",
                "Thanks Alice. Could you sign out of Office (File > Account > Sign out), "
                "restart Outlook and sign in once more? I have reset your session on our side.",
            ),
            DemoNote(
                "agent1@example.com",
                "Sign-in logs show a stale token after last week's MFA reset. Revoked "
                "sessions; watch for a repeat before escalating to the identity team.",
                internal=True,
            ),
        ],
    ),
    DemoTicket(
        contact="alice@acme.example",
        subject="Laptop for a new starter on Monday",
        description=(
            "Jamie Fox joins the finance team on Monday. Please prepare a laptop with "
            "the usual finance software and a mailbox."
        ),
        days_ago=3,
    ),
    DemoTicket(
        contact="bob@acme.example",
        subject="VPN disconnects every few minutes when working from home",
        description=(
            "The VPN client connects, then drops after two or three minutes and "
            "reconnects. Home broadband is otherwise stable."
        ),
        days_ago=0,
        notes=[DemoNote("bob@acme.example", "Log file from the VPN client is on its way.")],
    ),
    DemoTicket(
        contact="bob@acme.example",
        subject="Second-floor printer reports a paper jam with no paper stuck",
        description="The HP on the second floor shows 'Paper jam in tray 2'. The tray is empty.",
        days_ago=6,
        assignee="agent2@example.com",
        minutes=35,
        closed=True,
        notes=[
            DemoNote(
                "agent2@example.com",
                "Replaced the worn pickup roller in tray 2 and printed a test page. "
                "Closing this one; reply here if it comes back.",
            ),
        ],
    ),
    DemoTicket(
        contact="carol@globex.example",
        subject="Shared drive S: no longer maps after password change",
        description=(
            "After changing my password on Tuesday the S: drive shows a red cross "
            "and asks for credentials."
        ),
        days_ago=2,
    ),
    DemoTicket(
        contact="carol@globex.example",
        subject="Request: Adobe Acrobat Pro licence",
        description="I need to edit and sign PDF contracts. Manager approval attached by email.",
        days_ago=4,
    ),
    DemoTicket(
        contact="dave@globex.example",
        subject="Teams calls lose audio after a few minutes",
        description="Video keeps going but nobody hears me after about five minutes in a call.",
        days_ago=0,
    ),
    DemoTicket(
        contact="dave@globex.example",
        subject="New phone: need to move my authenticator app",
        description="My old phone broke. I cannot approve sign-ins any more.",
        days_ago=1,
    ),
    DemoTicket(
        contact="erin@acme.example",
        subject="Laptop battery is swelling",
        description="Erin called: the laptop's case bulges under the touchpad. Needs a swap.",
        days_ago=2,
    ),
]

# kind, title, body: global greeting/farewell templates of the chat window.
TEMPLATES: list[tuple[TemplateKind, str, str]] = [
    (
        TemplateKind.GREETING,
        "Hello",
        "Hi {client_first_name}, this is {agent_name} from the helpdesk. How can I help?",
    ),
    (
        TemplateKind.FAREWELL,
        "Goodbye",
        "Thanks for chatting with us, {client_first_name}. Have a good day! ({agent_name})",
    ),
]

# name, language, body: approved WhatsApp templates (as copied from WhatsApp
# Manager), what goes to a WhatsApp client outside its 24-hour window.
WHATSAPP_TEMPLATES: list[tuple[str, str, str]] = [
    (
        "ticket_follow_up",
        "en_US",
        "Hello {{1}}, this is {{2}} from the IT helpdesk about your ticket “{{3}}”. "
        "Reply to this message to continue.",
    ),
    (
        "helpdesk_callback",
        "en_US",
        "Hello {{1}}, the IT helpdesk tried to reach you. Reply here when you have a moment.",
    ),
]

SCHEDULE_NAME = "Around the clock"
QUEUE_NAME = "Support"


@dataclass
class SeedResult:
    users: int = 0
    companies: int = 0
    contacts: int = 0
    tickets: int = 0
    presence: int = 0
    schedules: int = 0
    queues: int = 0
    templates: int = 0
    whatsapp_templates: int = 0

    @property
    def total(self) -> int:
        counts = (self.users, self.companies, self.contacts, self.tickets, self.presence)
        chat = self.queues + self.templates + self.whatsapp_templates
        return sum(counts) + self.schedules + chat


@transaction.atomic
def seed() -> SeedResult:
    """Create whatever part of the demo data is missing."""
    result = SeedResult()
    users: dict[str, User] = {}
    for email, full_name, role in STAFF:
        users[email] = _user(email, full_name, role, result)
    for email, full_name, _company, _phone in CLIENTS:
        users[email] = _user(email, full_name, Role.CLIENT, result)

    contacts: dict[str, Contact] = {}
    for email, full_name, company_name, phone in CLIENTS:
        company, created = Company.objects.get_or_create(name=company_name)
        result.companies += created
        contact, created = Contact.objects.get_or_create(
            user=users[email],
            defaults={"name": full_name, "email": email, "phone": phone, "company": company},
        )
        result.contacts += created
        contacts[email] = contact
    for name, company_name, phone, email in PHONE_CONTACTS:
        company, created = Company.objects.get_or_create(name=company_name)
        result.companies += created
        contact, created = Contact.objects.get_or_create(
            name=name,
            company=company,
            user=None,
            defaults={"email": email, "phone": phone},
        )
        result.contacts += created
        contacts[email] = contact

    supervisor = users["supervisor@example.com"]
    for demo in TICKETS:
        if not Ticket.objects.filter(subject=demo.subject, contact=contacts[demo.contact]).exists():
            _ticket(demo, contacts[demo.contact], users, supervisor)
            result.tickets += 1

    for user in User.objects.filter(role__in=STAFF_ROLES, presence__isnull=True):
        AgentPresence.objects.create(user=user, status=PresenceStatus.OFFLINE)
        result.presence += 1

    # Leave any schedule an administrator made alone; only a fresh install gets
    # the demo one, open around the clock (no configured hours must never turn
    # demo clients away).
    if not Schedule.objects.exists():
        schedule = Schedule.objects.create(name=SCHEDULE_NAME, timezone="UTC", is_active=True)
        WeeklyInterval.objects.bulk_create(
            WeeklyInterval(schedule=schedule, weekday=day, start=time(0), end=time(0))
            for day in Weekday
        )
        result.schedules += 1

    # One default chat queue with every demo agent in it: every demo client's
    # requests go to it, so agent1 and agent2 may answer them (only a queue's
    # members may) and are paged, with the supervisor, once available.
    if not ChatQueue.objects.exists():
        queue = ChatQueue.objects.create(name=QUEUE_NAME, is_default=True)
        queue.members.add(
            *User.objects.filter(email__in=[e for e, _n, r in STAFF if r != Role.ADMINISTRATOR])
        )
        result.queues += 1
    ChatSettings.objects.get_or_create(pk=1)
    for kind, title, body in TEMPLATES:
        _template, created = ChatTemplate.objects.get_or_create(
            kind=kind, title=title, owner=None, defaults={"body": body}
        )
        result.templates += created
    for name, language, body in WHATSAPP_TEMPLATES:
        _template, created = WhatsAppTemplate.objects.get_or_create(
            name=name, language=language, defaults={"body": body, "approved": True}
        )
        result.whatsapp_templates += created
    return result


def login_lines() -> list[str]:
    """One line per demo login (email, role, name), for this command and for the
    banner of `make run` (config/launch.py)."""
    lines = [f"{email:<26} {role.label:<14} {full_name}" for email, full_name, role in STAFF]
    lines += [
        f"{email:<26} {'Client':<14} {full_name}, {company}"
        for email, full_name, company, _phone in CLIENTS
    ]
    return lines


def _user(email: str, full_name: str, role: Role, result: SeedResult) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user
    is_admin = role == Role.ADMINISTRATOR
    user = User.objects.create_user(
        email,
        PASSWORD,
        full_name=full_name,
        role=role,
        is_staff=is_admin,
        is_superuser=is_admin,
    )
    result.users += 1
    return user


def _ticket(demo: DemoTicket, contact: Contact, users: dict[str, User], supervisor: User) -> None:
    ticket = ticket_services.ticket_create(
        subject=demo.subject,
        description=demo.description,
        company=contact.company,
        contact=contact,
        created_by=users.get(demo.contact),  # None: a contact without a portal login
    )
    # Spread the demo tickets over the last week so lists look lived-in.
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=timezone.now() - timedelta(days=demo.days_ago, hours=2)
    )
    for note in demo.notes:
        ticket_services.note_add(
            ticket=ticket, author=users[note.author], body=note.body, is_internal=note.internal
        )
    if demo.assignee:
        agent = users[demo.assignee]
        ticket_services.ticket_assign(ticket=ticket, assignee=agent, actor=supervisor)
        if demo.minutes:
            ticket_services.time_entry_add(
                ticket=ticket, agent=agent, minutes=demo.minutes, note="Diagnosis and fix."
            )
    if demo.closed:
        ticket_services.ticket_close(ticket=ticket, actor=users[demo.assignee or supervisor.email])


class Command(BaseCommand):
    help = "Create the demo helpdesk (users, companies, tickets, office hours). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-logins",
            action="store_false",
            dest="logins",
            help="Leave out the list of demo logins (make run prints it once it serves).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = seed()
        verbosity = int(options.get("verbosity", 1))
        if verbosity == 0:
            return
        if result.total:
            self.stdout.write(
                self.style.SUCCESS(
                    "Demo data created: "
                    f"users {result.users}, companies {result.companies}, "
                    f"contacts {result.contacts}, tickets {result.tickets}, "
                    f"presence rows {result.presence}, office-hours schedules {result.schedules}, "
                    f"chat templates {result.templates}, "
                    f"WhatsApp templates {result.whatsapp_templates}."
                )
            )
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        if options["logins"]:
            self.stdout.write(f"Demo logins (password: {PASSWORD}):")
            for line in login_lines():
                self.stdout.write(f"  {line}")
