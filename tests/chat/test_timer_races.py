"""Timer races that only a real multi-connection database can show (PostgreSQL).

1. Two beats sweeping at once: each due chat changes once, gets one system
   line and one broadcast, and the two runs' return values add up to the
   number of due chats.
2. A message and the inactivity sweep at the deadline: whichever commits
   first, the chat ends up active with ``inactive_at`` cleared, and its seqs
   stay unique and gap-free. Both orders must occur over the iterations: a
   run that only ever saw one of them did not test the race.

On SQLite every writer is serialized by the IMMEDIATE transactions, so these
prove nothing there and are skipped (as tests/chat/test_races.py).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from chat import services, timers
from chat.models import (
    ChatKind,
    ChatSession,
    Message,
    MessageKind,
    SessionEvent,
    SessionStatus,
)
from presence import tasks as presence_tasks
from presence.models import PresenceStatus
from tests.personas import AGENT1, ALICE, SUPERVISOR
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DUE = 60  # chats due per sweep kind: enough rows for two UPDATEs to overlap
ROUNDS = 3  # two beats at once, this many times per kind
RACE_ITERATIONS = 40  # message vs inactivity sweep: each order came 9 to 31 times in trials


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the timer races are tested on PostgreSQL")


@pytest.fixture(autouse=True)
def _no_chat_limit(settings: Any) -> None:
    # One agent answers DUE chats here; the per-agent limit is tested elsewhere.
    settings.MAX_CHATS_PER_AGENT = 10_000


class Frames:
    """Every frame the events layer sends after commit, from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frames: list[tuple[str, dict[str, Any]]] = []

    def record(self, frames: list[tuple[str, dict[str, Any]]]) -> None:
        with self.lock:
            self.frames.extend(frames)

    def clear(self) -> None:
        with self.lock:
            self.frames.clear()

    def of_type(self, frame_type: str) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(g, f) for g, f in self.frames if f["type"] == frame_type]


@pytest.fixture
def frames(monkeypatch: pytest.MonkeyPatch) -> Frames:
    recorder = Frames()
    monkeypatch.setattr("chat.broadcasts._deliver", recorder.record)
    return recorder


def two_beats(sweep: Callable[..., int], now: Any) -> list[int]:
    """``sweep`` from two threads at once, as two beats would run it."""
    return at_once(lambda: sweep(now=now), lambda: sweep(now=now))


def assert_seqs_gap_free(session_ids: list[int]) -> None:
    last_seqs = dict(ChatSession.objects.filter(pk__in=session_ids).values_list("pk", "last_seq"))
    seqs: dict[int, list[int]] = {pk: [] for pk in session_ids}
    for session_id, seq in (
        Message.objects.filter(session_id__in=session_ids)
        .order_by("session_id", "seq")
        .values_list("session_id", "seq")
    ):
        seqs[session_id].append(seq)
    for pk in session_ids:
        assert seqs[pk] == list(range(1, last_seqs[pk] + 1)), (pk, seqs[pk], last_seqs[pk])


def lines(session_ids: list[int], body: str) -> Counter[int]:
    return Counter(
        Message.objects.filter(
            session_id__in=session_ids, kind=MessageKind.SYSTEM, body=body
        ).values_list("session_id", flat=True)
    )


@pytest.fixture
def people():  # type: ignore[no-untyped-def]
    client = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    supervisor = SUPERVISOR.create(presence=PresenceStatus.AVAILABLE)
    return client, agent, supervisor


def request_many(client, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    return [
        services.session_request(client=client, kind=ChatKind.PRE_TICKET, subject=f"Help {i}").pk
        for i in range(count)
    ]


def later(seconds: float) -> Any:
    return timezone.now() + timedelta(seconds=seconds)


# --- 1. Two beats at once ----------------------------------------------------------------


def test_two_beats_queue_warning(people, frames) -> None:  # type: ignore[no-untyped-def]
    client, _, supervisor = people
    for _ in range(ROUNDS):
        ids = request_many(client, DUE)
        frames.clear()
        messages_before = Message.objects.filter(session_id__in=ids).count()
        now = later(settings.QUEUE_WARNING_SECONDS)

        counts = two_beats(timers.sweep_queue_warning, now)

        assert sum(counts) == DUE, counts
        assert ChatSession.objects.filter(pk__in=ids, warned_at=now).count() == DUE
        # No system line for the warning, and nothing else changed.
        assert Message.objects.filter(session_id__in=ids).count() == messages_before
        # Each request turned red once for the staff ...
        updated = Counter(
            s["id"] for _, f in frames.of_type("queue.updated") for s in f["sessions"]
        )
        assert updated == Counter({pk: 1 for pk in ids})
        # ... and each was in exactly one supervisor toast.
        toasts = frames.of_type("chat.warning")
        assert {group for group, _ in toasts} == {f"user.{supervisor.pk}"}
        toasted = Counter(s["id"] for _, f in toasts for s in f["sessions"])
        assert toasted == Counter({pk: 1 for pk in ids})
        # Answer them so the next round starts from fresh requests only.
        ChatSession.objects.filter(pk__in=ids).update(status=SessionStatus.CLOSED)


def test_two_beats_no_answer(people, frames) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = people
    for _ in range(ROUNDS):
        ids = request_many(client, DUE)
        frames.clear()
        now = later(settings.NO_ANSWER_SECONDS)

        counts = two_beats(timers.sweep_no_answer, now)

        assert sum(counts) == DUE, counts
        assert ChatSession.objects.filter(pk__in=ids, no_answer_at=now).count() == DUE
        assert lines(ids, timers.NO_ANSWER_LINE) == Counter({pk: 1 for pk in ids})
        assert_seqs_gap_free(ids)
        # One chat.swept per chat (the consumer relays it as chat.message +
        # chat.session), carrying its own line.
        swept = frames.of_type("chat.swept")
        announced = Counter(f["message"]["session_id"] for _, f in swept)
        assert announced == Counter({pk: 1 for pk in ids})
        told = Counter(f["session"]["id"] for _, f in swept)
        assert told == Counter({pk: 1 for pk in ids})
        ChatSession.objects.filter(pk__in=ids).update(status=SessionStatus.CLOSED)


def test_two_beats_abandoned(people, frames) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = people
    grace = settings.PRESENCE_GRACE_SECONDS
    for _ in range(ROUNDS):
        ids = request_many(client, DUE)
        told_at = later(settings.NO_ANSWER_SECONDS)
        assert timers.sweep_no_answer(now=told_at) == DUE
        frames.clear()
        # The client has no open page (no AgentConnection row): due after the grace.
        now = told_at + timedelta(seconds=grace)

        counts = two_beats(timers.sweep_abandoned, now)

        assert sum(counts) == DUE, counts
        assert (
            ChatSession.objects.filter(
                pk__in=ids, status=SessionStatus.ABANDONED, ended_at=now
            ).count()
            == DUE
        )
        transitions = Counter(
            SessionEvent.objects.filter(
                session_id__in=ids, new_status=SessionStatus.ABANDONED
            ).values_list("session_id", flat=True)
        )
        assert transitions == Counter({pk: 1 for pk in ids})
        line = timers.ABANDONED_LINE.format(name=ALICE.full_name)
        assert lines(ids, line) == Counter({pk: 1 for pk in ids})
        assert_seqs_gap_free(ids)
        abandoned = Counter(
            s["id"] for _, f in frames.of_type("queue.abandoned") for s in f["sessions"]
        )
        assert abandoned == Counter({pk: 1 for pk in ids})


def test_two_beats_inactivity(people, frames) -> None:  # type: ignore[no-untyped-def]
    client, agent, _ = people
    for _ in range(ROUNDS):
        ids = request_many(client, DUE)
        for pk in ids:
            services.session_join(session_id=pk, agent=agent)
        frames.clear()
        now = later(settings.INACTIVITY_SECONDS)

        counts = two_beats(timers.sweep_inactivity, now)

        assert sum(counts) == DUE, counts
        assert (
            ChatSession.objects.filter(
                pk__in=ids, status=SessionStatus.ACTIVE, inactive_at=now
            ).count()
            == DUE
        )
        assert lines(ids, timers.INACTIVE_LINE) == Counter({pk: 1 for pk in ids})
        assert_seqs_gap_free(ids)
        announced = Counter(f["message"]["session_id"] for _, f in frames.of_type("chat.swept"))
        assert announced == Counter({pk: 1 for pk in ids})
        ChatSession.objects.filter(pk__in=ids).update(status=SessionStatus.CLOSED)


def test_two_beat_tasks_run_every_sweep_at_once(people, frames) -> None:  # type: ignore[no-untyped-def]
    """The real beat task body (every sweep in turn) twice at once, over chats
    due for every timer: no sweep fails (no deadlock between the two runs'
    UPDATEs) and each chat changes once per timer."""
    client, agent, _ = people
    grace = settings.PRESENCE_GRACE_SECONDS
    told = request_many(client, DUE)  # told nobody answered a while ago: abandoned due
    waiting = request_many(client, DUE)  # warning and no-answer due
    active = request_many(client, DUE)  # joined: inactivity due
    for pk in active:
        services.session_join(session_id=pk, agent=agent)
    now = later(max(settings.INACTIVITY_SECONDS, settings.NO_ANSWER_SECONDS + grace) + 1)
    # As an earlier no-answer sweep would have left them (minus its line).
    ChatSession.objects.filter(pk__in=told).update(no_answer_at=now - timedelta(seconds=grace))
    frames.clear()

    results = at_once(
        lambda: presence_tasks.run_sweeps(now=now),
        lambda: presence_tasks.run_sweeps(now=now),
    )

    total: Counter[str] = Counter()
    for result in results:
        assert all(n >= 0 for n in result.values()), results  # -1: a sweep failed
        total.update(result)
    assert total["chat.timers.sweep_queue_warning"] == 2 * DUE  # told + waiting
    assert total["chat.timers.sweep_no_answer"] == DUE  # waiting
    assert total["chat.timers.sweep_abandoned"] == DUE  # told (waiting: told just now)
    assert total["chat.timers.sweep_inactivity"] == DUE  # active
    once = Counter({pk: 1 for pk in told + waiting})
    assert Counter(ChatSession.objects.filter(warned_at=now).values_list("pk", flat=True)) == once
    assert lines(waiting, timers.NO_ANSWER_LINE) == Counter({pk: 1 for pk in waiting})
    abandoned = timers.ABANDONED_LINE.format(name=ALICE.full_name)
    assert lines(told + waiting, abandoned) == Counter({pk: 1 for pk in told})
    assert lines(active, timers.INACTIVE_LINE) == Counter({pk: 1 for pk in active})
    assert_seqs_gap_free(told + waiting + active)


# --- 2. A message and the inactivity sweep ------------------------------------------------


def test_message_and_inactivity_sweep_at_the_deadline(people, frames) -> None:  # type: ignore[no-untyped-def]
    client, agent, _ = people
    outcomes: Counter[str] = Counter()
    for number in range(RACE_ITERATIONS):
        session = services.session_request(
            client=client, kind=ChatKind.PRE_TICKET, subject=f"Race {number}"
        )
        services.session_join(session_id=session.pk, agent=agent)
        # The hour is up right now.
        deadline = timezone.now()
        ChatSession.objects.filter(pk=session.pk).update(inactivity_due_at=deadline)
        before = ChatSession.objects.get(pk=session.pk).last_seq
        author = agent if number % 2 else client

        flagged, sent = at_once(
            lambda deadline=deadline: timers.sweep_inactivity(now=deadline),
            lambda session=session, author=author: services.message_send(
                session_id=session.pk, author=author, client_id=uuid.uuid4(), body="still here"
            ),
        )

        session.refresh_from_db()
        assert sent.created
        assert session.status == SessionStatus.ACTIVE
        assert session.inactive_at is None, "a message after the flag must clear it"
        assert session.inactivity_due_at > deadline
        assert_seqs_gap_free([session.pk])
        system = list(
            Message.objects.filter(session=session, body=timers.INACTIVE_LINE).values_list(
                "seq", flat=True
            )
        )
        assert flagged in (0, 1)
        assert len(system) == flagged
        if flagged:
            # The sweep committed first: its line comes before the message.
            assert system == [before + 1] and sent.message.seq == before + 2
            outcomes["sweep first"] += 1
        else:
            assert sent.message.seq == before + 1
            outcomes["message first"] += 1
        assert session.last_seq == sent.message.seq
        ChatSession.objects.filter(pk=session.pk).update(status=SessionStatus.CLOSED)
    print(f"message vs inactivity sweep: {dict(outcomes)}")
    assert outcomes["sweep first"] and outcomes["message first"], (
        f"the race went one way only in {RACE_ITERATIONS} tries: {dict(outcomes)}"
    )
