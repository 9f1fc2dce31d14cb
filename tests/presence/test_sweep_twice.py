"""The beat task delivered twice changes everything once: a tick handed out
again after its worker died (docs/architecture.md "Tasks"), or a late tick
right behind the next one. Every sweep has work due; the first run does it
all, announced once, and the second finds nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail

from chat import services, timers
from chat.models import ChatBlock, ChatKind, ChatSession, Message, MessageKind, SessionStatus
from chat.reach_out.services import reach_out
from presence import tasks
from presence.models import AgentPresence, PresenceStatus
from tests.factories import TicketFactory
from tests.personas import AGENT1, AGENT2, ALICE, CAROL

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DUE = T0 + timedelta(days=2)  # past every deadline made at T0


@pytest.fixture
def chat_frames(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What chat.broadcasts sends after commit."""
    frames: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr("chat.broadcasts._deliver", frames.extend)
    return frames


@pytest.fixture
def presence_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What presence broadcasts after commit."""
    events: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr("realtime.broadcast.send_now", lambda g, m: events.append((g, m)))
    return events


@pytest.fixture
def due_everywhere() -> dict[str, Any]:
    """At T0: an agent who closed the console (presence expiry), a request
    nobody answered (queue warning, no-answer), one whose client was told and
    left (abandoned), a live chat gone quiet (inactivity), a block, and an
    email reach-out whose messages were never emailed (its first email's
    task never ran)."""
    with time_machine.travel(T0, tick=False):
        alice = ALICE.create()
        agent = AGENT1.create(presence=PresenceStatus.AVAILABLE)
        leaver = AGENT2.create(presence=PresenceStatus.AVAILABLE)
        AgentPresence.objects.filter(user=leaver).update(offline_deadline=T0)
        ticket = TicketFactory(contact=alice.contact)
        unanswered = services.session_request(
            client=alice, kind=ChatKind.PRE_TICKET, subject="Unanswered"
        )
        told = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="Told")
        ChatSession.objects.filter(pk=told.pk).update(no_answer_at=T0)
        quiet = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk
        )
        services.session_join(session_id=quiet.pk, agent=agent)
        services.message_send(
            session_id=quiet.pk, author=alice, client_id=uuid.uuid4(), body="Hello?"
        )
        block = ChatBlock.objects.create(
            client=CAROL.create(), reason="Spam", expires_at=T0 + timedelta(hours=1)
        )
        reached = reach_out(
            agent=agent,
            ticket_id=TicketFactory(contact=alice.contact).pk,
            channel="email",
            body="Is the printer fixed?",
            client_id=uuid.uuid4(),
            site_url="https://help.example.com",
        )
        services.message_send(
            session_id=reached.pk, author=agent, client_id=uuid.uuid4(), body="Which tray?"
        )
    return {
        "unanswered": unanswered,
        "told": told,
        "quiet": quiet,
        "block": block,
        "reached": reached,
    }


def run_sweep_task(capture, task=tasks.sweep) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return task.apply().get()


def system_lines(session: ChatSession) -> list[str]:
    return list(
        Message.objects.filter(session=session, kind=MessageKind.SYSTEM)
        .order_by("seq")
        .values_list("body", flat=True)
    )


def test_sweep_task_twice_changes_everything_once(
    due_everywhere, chat_frames, presence_events, django_capture_on_commit_callbacks
) -> None:
    unanswered, told, quiet = (due_everywhere[k] for k in ("unanswered", "told", "quiet"))
    lines_before = {s.pk: system_lines(s) for s in (unanswered, told, quiet)}

    with time_machine.travel(DUE, tick=False):
        first = run_sweep_task(django_capture_on_commit_callbacks)
        announced = len(chat_frames)
        second = run_sweep_task(django_capture_on_commit_callbacks)
        first_requeue, second_requeue = (
            run_sweep_task(django_capture_on_commit_callbacks, tasks.requeue_sweep)
            for _ in range(2)
        )

    assert first == {
        "presence.services.presence_sweep": 1,
        "chat.timers.sweep_queue_warning": 2,  # unanswered and told
        "chat.timers.sweep_no_answer": 1,  # unanswered (told already was)
        "chat.timers.sweep_abandoned": 1,  # told
        "chat.timers.sweep_inactivity": 2,  # quiet, and the reach-out
        "chat.agent_tools.blocks.sweep_block_expiry": 1,
        "chat.reach_out.emails.sweep_reach_out_emails": 1,
    }
    assert second == dict.fromkeys(first, 0)
    # Nothing stuck: every task was queued (tests/chat/channels/test_requeue.py).
    assert (
        first_requeue
        == second_requeue
        == {
            "chat.requeue.sweep_unsent_messages": 0,
            "chat.requeue.sweep_unsent_notices": 0,
            "chat.requeue.sweep_transcripts": 0,
            "chat.requeue.sweep_pending_media": 0,
        }
    )
    # Each line once, and nothing announced by the second run.
    new_lines = {
        s.pk: system_lines(s)[len(lines_before[s.pk]) :] for s in (unanswered, told, quiet)
    }
    assert new_lines == {
        unanswered.pk: [timers.NO_ANSWER_LINE],
        told.pk: [timers.ABANDONED_LINE.format(name=ALICE.full_name)],
        quiet.pk: [timers.INACTIVE_LINE],
    }
    assert announced and len(chat_frames) == announced
    assert [(m["type"], m["status"]) for _, m in presence_events] == [
        ("presence.changed", "offline")
    ]
    states = dict(ChatSession.objects.values_list("pk", "status"))
    assert states == {
        unanswered.pk: SessionStatus.WAITING,  # told; the client decides what next
        told.pk: SessionStatus.ABANDONED,
        quiet.pk: SessionStatus.ACTIVE,  # the client may end it now
        due_everywhere["reached"].pk: SessionStatus.ACTIVE,
    }
    assert not ChatBlock.objects.get(pk=due_everywhere["block"].pk).active
    # Both of the reach-out's messages, in one email, once.
    (email,) = mail.outbox
    assert "Is the printer fixed?" in email.body and "Which tray?" in email.body
