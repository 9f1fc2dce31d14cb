from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from presence import tasks
from presence.models import AgentPresence, PresenceStatus
from presence.selectors import (
    agent_states,
    available_agents,
    is_available,
    is_online,
    presence_status,
)
from presence.services import connection_open, presence_set
from tests.factories import AgentFactory
from tests.personas import AGENT1, ALICE, SUPERVISOR

pytestmark = pytest.mark.django_db
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_available_agents() -> None:
    with time_machine.travel(T0, tick=False):
        connected = AgentFactory()
        connection_open(user=connected, channel_name="c1")
        presence_set(user=connected, status=PresenceStatus.AVAILABLE)
        in_grace = AgentFactory()
        presence_set(user=in_grace, status=PresenceStatus.AVAILABLE)  # deadline T0+grace
        past = AgentFactory()
        presence_set(user=past, status=PresenceStatus.AVAILABLE)
        AgentPresence.objects.filter(user=past).update(offline_deadline=T0)
        away = AgentFactory()
        presence_set(user=away, status=PresenceStatus.AWAY)
        inactive = AgentFactory()
        presence_set(user=inactive, status=PresenceStatus.AVAILABLE)
        inactive.is_active = False
        inactive.save()
        AgentFactory()  # never set: offline

        assert set(available_agents()) == {connected, in_grace}
        assert is_available(user=connected)
        assert not is_available(user=past)  # not flipped yet, but no longer counts


def test_presence_status_and_agent_states(django_assert_num_queries) -> None:
    agent = AGENT1.create()
    supervisor = SUPERVISOR.create()
    ALICE.create()
    presence_set(user=supervisor, status=PresenceStatus.AWAY)
    assert presence_status(user=agent) == "offline"
    assert presence_status(user=supervisor) == "away"
    with django_assert_num_queries(1):
        states = agent_states()
    expected = [
        {"user_id": agent.pk, "name": AGENT1.full_name, "status": "offline"},
        {"user_id": supervisor.pk, "name": SUPERVISOR.full_name, "status": "away"},
    ]
    assert states == sorted(expected, key=lambda state: state["name"])  # by name


def test_is_online(settings) -> None:
    alice = ALICE.create()
    with time_machine.travel(T0, tick=False) as clock:
        assert not is_online(user=alice)
        connection_open(user=alice, channel_name="portal")
        assert is_online(user=alice)
        clock.shift(settings.PRESENCE_STALE_SECONDS + 1)
        assert not is_online(user=alice)  # its daphne died; not swept yet


def test_sweep_task_runs_every_sweep(monkeypatch) -> None:
    calls: list[str] = []

    def broken(*, now: datetime) -> int:
        calls.append("broken")
        raise RuntimeError("boom")

    def other(*, now: datetime) -> int:
        calls.append("other")
        return 2

    monkeypatch.setattr("tests.presence.test_selectors_tasks.broken_sweep", broken, raising=False)
    monkeypatch.setattr("tests.presence.test_selectors_tasks.other_sweep", other, raising=False)
    monkeypatch.setattr(
        tasks,
        "SWEEPS",
        [
            "tests.presence.test_selectors_tasks.broken_sweep",
            "presence.services.presence_sweep",
            "tests.presence.test_selectors_tasks.other_sweep",
        ],
    )
    result = tasks.sweep.apply().get()
    assert result == {
        "tests.presence.test_selectors_tasks.broken_sweep": -1,
        "presence.services.presence_sweep": 0,
        "tests.presence.test_selectors_tasks.other_sweep": 2,
    }
    assert calls == ["broken", "other"]


def test_sweep_task_expires_presence() -> None:
    agent = AgentFactory()
    with time_machine.travel(T0, tick=False):
        presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        tasks.sweep.apply()
    assert AgentPresence.objects.get(user=agent).status == PresenceStatus.OFFLINE


def test_sweep_task_is_the_beat_entry() -> None:
    from config.celery import app

    app.loader.import_default_modules()
    assert "presence.tasks.sweep" in app.tasks
    app.finalize()
    entries = app.conf.beat_schedule
    assert any(entry["task"] == "presence.tasks.sweep" for entry in entries.values())


def test_the_requeue_sweeps_run_on_their_own_slower_beat_entry(settings) -> None:  # type: ignore[no-untyped-def]
    from config.celery import app

    app.loader.import_default_modules()
    assert "presence.tasks.requeue_sweep" in app.tasks
    app.finalize()
    schedules = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedules == {
        "presence.tasks.sweep": float(settings.SWEEP_SECONDS),
        "presence.tasks.requeue_sweep": float(settings.REQUEUE_SWEEP_SECONDS),
    }
    assert settings.REQUEUE_SWEEP_SECONDS > settings.SWEEP_SECONDS
    # Each sweep on one clock: the requeue ones only on the slower.
    requeue_sweeps = [path for path in tasks.REQUEUE_SWEEPS if path.startswith("chat.requeue.")]
    assert requeue_sweeps == tasks.REQUEUE_SWEEPS and len(requeue_sweeps) == 4
    assert not set(tasks.SWEEPS) & set(tasks.REQUEUE_SWEEPS)
    assert set(tasks.requeue_sweep.apply().get()) == set(tasks.REQUEUE_SWEEPS)
