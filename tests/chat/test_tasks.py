"""The chat tasks delivered twice do their work once: after a worker died with a
task's message unacknowledged the broker hands it out again (after the
visibility timeout, docs/architecture.md "Tasks"), and a task that outlived
that timeout runs twice at once.

Ending a chat queues the tasks (``queued`` keeps their messages instead of
running them inline); each test then runs a message the way a worker does
(``Task.apply``), twice.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from celery import Task
from django.core import mail
from django.db import connection

from chat import services, tasks
from chat.models import ChatKind, ChatSession
from tests.personas import AGENT1, ALICE
from tests.races import at_once
from tickets.models import Ticket, TicketAttachment, TicketNote

Queued = list[tuple[Task, tuple[Any, ...]]]


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> Queued:
    """The tasks' messages, as the broker would hold them."""
    messages: Queued = []
    for task in (tasks.attach_transcript, tasks.email_transcript):
        monkeypatch.setattr(task, "delay", lambda *args, task=task: messages.append((task, args)))
    return messages


def deliver(message: tuple[Task, tuple[Any, ...]]) -> Any:
    """Run a queued message as a worker does."""
    task, args = message
    return task.apply(args=args).get()


def message_of(queued: Queued, task: Task) -> tuple[Task, tuple[Any, ...]]:
    [message] = [m for m in queued if m[0].name == task.name]
    return message


def end_chat(client, ticket, agent, capture) -> ChatSession:  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=client, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent)
    services.message_send(
        session_id=session.pk, author=client, client_id=uuid.uuid4(), body="It smokes"
    )
    with capture(execute=True):
        return services.session_end(session_id=session.pk, agent=agent)


def transcripts_on(ticket: Ticket) -> int:
    return TicketAttachment.objects.filter(ticket=ticket, source_key__startswith="chat-").count()


@pytest.mark.django_db
class TestTwice:
    def test_attach_transcript_attaches_one_file_with_one_note(
        self, alice, alice_ticket, agent1, queued, django_capture_on_commit_callbacks
    ):
        session = end_chat(alice, alice_ticket, agent1, django_capture_on_commit_callbacks)
        message = message_of(queued, tasks.attach_transcript)

        assert deliver(message) is True
        assert deliver(message) is False

        assert transcripts_on(alice_ticket) == 1
        note = TicketNote.objects.get(ticket=alice_ticket)
        assert note.body == (
            f"The chat has ended; its transcript is attached as chat-{session.pk}-transcript.txt."
        )

    def test_email_transcript_sends_one_email(
        self, alice, alice_ticket, agent1, queued, django_capture_on_commit_callbacks
    ):
        end_chat(alice, alice_ticket, agent1, django_capture_on_commit_callbacks)
        message = message_of(queued, tasks.email_transcript)

        assert deliver(message) is True
        assert deliver(message) is False

        assert [email.to for email in mail.outbox] == [[alice.email]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestTwiceAtOnce:
    """A second copy of a message running while the first still runs (a task
    that outlived the visibility timeout): on PostgreSQL, where the two runs
    really overlap (SQLite's IMMEDIATE transactions take turns)."""

    @pytest.fixture(autouse=True)
    def _postgres_only(self) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("runs at once only on PostgreSQL")

    @pytest.fixture
    def ended(self, queued, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
        from tests.factories import TicketFactory

        alice = ALICE.create()
        ticket = TicketFactory(contact=alice.contact, subject="Printer on fire")
        end_chat(alice, ticket, AGENT1.create(), django_capture_on_commit_callbacks)
        return alice, ticket

    def test_attach_transcript(self, ended, queued):
        _, ticket = ended
        message = message_of(queued, tasks.attach_transcript)

        results = at_once(lambda: deliver(message), lambda: deliver(message))

        assert sorted(results) == [False, True]
        assert transcripts_on(ticket) == 1
        assert TicketNote.objects.filter(ticket=ticket).count() == 1

    def test_email_transcript(self, ended, queued):
        alice, _ = ended
        message = message_of(queued, tasks.email_transcript)

        results = at_once(lambda: deliver(message), lambda: deliver(message))

        assert sorted(results) == [False, True]
        assert [email.to for email in mail.outbox] == [[alice.email]]
