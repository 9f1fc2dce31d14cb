"""The people of every test: the demo helpdesk's (``manage.py seed_demo``).

seed_demo's ``STAFF`` and ``CLIENTS`` lists are the one source of their emails,
names, roles, companies and phones; this module only builds them with the test
factories, so the Alice of a test is the Alice a developer logs in as after
``make run``, and a renamed demo person renames it in every test::

    from tests import personas
    from presence.models import PresenceStatus

    alice = personas.ALICE.create()  # client of Acme, with its contact
    agent1 = personas.AGENT1.create(presence=PresenceStatus.AVAILABLE)
    assert line == f"{personas.AGENT1.full_name} joined the chat."

Companies are looked up by name (``company(personas.ACME)``), so Alice and Bob
share one Acme however and in whatever order they are built. The demo's chat
queue, where every demo client's requests go, is ``support_queue(*members)``:
only its members (and supervisors) may answer them. Everyone's
password is ``tests.factories.PASSWORD`` (the demo's too). People a test needs
beyond these eight (a crowd of agents, a hostile name) come from the factories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accounts.models import Company, Role, User
from chat.models import ChatQueue
from config.management.commands.seed_demo import CLIENTS, QUEUE_NAME, STAFF
from tests.factories import CompanyFactory, UserFactory, client_user


@dataclass(frozen=True)
class Persona:
    email: str
    full_name: str
    role: Role
    company: str = ""  # a client's company (its name)
    phone: str = ""  # a client's contact phone

    @property
    def key(self) -> str:
        """The local part of the email ("alice", "agent1"): its name in fixtures."""
        return self.email.split("@")[0]

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0]

    def create(self, *, presence: str | None = None, **overrides: Any) -> User:
        """The user, saved; a client with its contact in its company (created
        if missing). ``presence``: an AgentPresence status for staff (the
        product creates none until the first status change). ``overrides``:
        other User fields, or ``company`` (a Company) for a client."""
        company_row = overrides.pop("company", None)
        fields: dict[str, Any] = {"email": self.email, "full_name": self.full_name}
        if self.role == Role.CLIENT:
            fields.update(overrides)
            user = client_user(company_row or company(self.company), phone=self.phone, **fields)
        else:
            if company_row is not None:
                raise TypeError(f"{self.key} is staff: staff belong to no company")
            is_admin = self.role == Role.ADMINISTRATOR
            fields.update(role=self.role, is_staff=is_admin, is_superuser=is_admin)
            fields.update(overrides)
            user = UserFactory(**fields)
        if presence is not None:
            from presence.models import AgentPresence

            AgentPresence.objects.create(user=user, status=presence)
        return user


def _staff(email: str) -> Persona:
    for staff_email, full_name, role in STAFF:
        if staff_email == email:
            return Persona(email, full_name, role)
    raise LookupError(f"seed_demo.STAFF has no {email}")


def _client(email: str) -> Persona:
    for client_email, full_name, company_name, phone in CLIENTS:
        if client_email == email:
            return Persona(email, full_name, Role.CLIENT, company_name, phone)
    raise LookupError(f"seed_demo.CLIENTS has no {email}")


ADMIN = _staff("admin@example.com")
SUPERVISOR = _staff("supervisor@example.com")
AGENT1 = _staff("agent1@example.com")
AGENT2 = _staff("agent2@example.com")
ALICE = _client("alice@acme.example")  # Acme
BOB = _client("bob@acme.example")  # Acme, Alice's colleague
CAROL = _client("carol@globex.example")  # Globex
DAVE = _client("dave@globex.example")  # Globex

ALL: tuple[Persona, ...] = (ADMIN, SUPERVISOR, AGENT1, AGENT2, ALICE, BOB, CAROL, DAVE)
BY_KEY: dict[str, Persona] = {persona.key: persona for persona in ALL}

ACME = ALICE.company
GLOBEX = CAROL.company


def company(name: str) -> Company:
    """The customer company of that name, created on first use."""
    return CompanyFactory(name=name)


def support_queue(*members: User) -> ChatQueue:
    """The demo's default chat queue (seed_demo's), with these members: every
    request of a company routed nowhere else goes to it."""
    queue, _ = ChatQueue.objects.get_or_create(name=QUEUE_NAME, defaults={"is_default": True})
    queue.members.add(*members)
    return queue
