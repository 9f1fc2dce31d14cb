"""Migrate the benchmark database and create its people, in this process.

Each chat needs a client (portal user with a contact and a ticket) and an
agent. Logins are session rows written with ``SessionStore`` directly: a
thousand logins through HTTP would measure the password hasher, not chat.
Names carry a run tag, so a run against a PostgreSQL database that already
holds data (or an earlier run) creates new rows beside the old ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pair:
    index: int
    client_cookie: str
    agent_cookie: str
    ticket_id: int


def setup_django() -> None:
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def seed(chats: int) -> tuple[list[Pair], str]:
    """``chats`` client/agent pairs, each with a logged-in session; also the
    cookie of an extra agent used to warm daphne up before measuring."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from accounts.models import Company, Contact, Role, User
    from tickets.models import Ticket

    tag = f"{int(time.time()):x}"
    # The backend a login records is the one that found the user: ModelBackend
    # (the first in the list is the login throttle's, which finds nobody).
    backend = "django.contrib.auth.backends.ModelBackend"
    assert backend in settings.AUTHENTICATION_BACKENDS
    unusable = make_password(None)

    def login(user: User) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"

    with transaction.atomic():
        company = Company.objects.create(name=f"Bench {tag}")
        clients = User.objects.bulk_create(
            User(
                email=f"bench-{tag}-client{i}@bench.example",
                full_name=f"Bench Client {i}",
                role=Role.CLIENT,
                password=unusable,
            )
            for i in range(chats)
        )
        agents = User.objects.bulk_create(
            User(
                email=f"bench-{tag}-agent{i}@bench.example",
                full_name=f"Bench Agent {i}",
                role=Role.AGENT,
                password=unusable,
            )
            for i in range(chats + 1)
        )
        contacts = Contact.objects.bulk_create(
            Contact(name=user.full_name, email=user.email, company=company, user=user)
            for user in clients
        )
        tickets = Ticket.objects.bulk_create(
            Ticket(
                subject=f"Bench ticket {i}",
                description="Benchmark.",
                company=company,
                contact=contact,
            )
            for i, contact in enumerate(contacts)
        )
        pairs = [Pair(i, login(clients[i]), login(agents[i]), tickets[i].pk) for i in range(chats)]
        warmup_cookie = login(agents[chats])
    return pairs, warmup_cookie
