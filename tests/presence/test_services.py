"""Presence rules: the toggle, connections, grace period and the beat sweep."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from presence.models import AgentConnection, AgentPresence, PresenceStatus
from presence.services import (
    PresenceError,
    connection_close,
    connection_open,
    connections_heartbeat,
    presence_set,
    presence_sweep,
)
from tests.factories import AgentFactory
from tests.personas import AGENT1, ALICE, SUPERVISOR

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
GRACE = 60
STALE = 90


@pytest.fixture(autouse=True)
def presence_settings(settings: Any) -> None:
    settings.PRESENCE_GRACE_SECONDS = GRACE
    settings.PRESENCE_STALE_SECONDS = STALE


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Broadcasts that reached the channel layer (i.e. after commit)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        "realtime.broadcast.send_now", lambda group, msg: calls.append((group, msg))
    )
    return calls


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def presence_of(user: Any) -> AgentPresence:
    return AgentPresence.objects.get(user=user)


pytestmark = pytest.mark.django_db


# --- presence_set ------------------------------------------------------------------
def test_client_cannot_have_presence() -> None:
    with pytest.raises(PresenceError) as excinfo:
        presence_set(user=ALICE.create(), status=PresenceStatus.AVAILABLE)
    assert excinfo.value.code == "forbidden"
    assert not AgentPresence.objects.exists()


def test_inactive_agent_cannot_set_presence() -> None:
    with pytest.raises(PresenceError) as excinfo:
        presence_set(user=AgentFactory(is_active=False), status=PresenceStatus.AVAILABLE)
    assert excinfo.value.code == "forbidden"


def test_unknown_status_is_refused() -> None:
    with pytest.raises(PresenceError) as excinfo:
        presence_set(user=AgentFactory(), status="asleep")
    assert excinfo.value.code == "invalid_status"
    assert not AgentPresence.objects.exists()


def test_set_available_while_connected_broadcasts_once(
    clock, sent, django_capture_on_commit_callbacks
) -> None:
    agent = AGENT1.create()
    connection_open(user=agent, channel_name="c1")
    with django_capture_on_commit_callbacks(execute=True):
        presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    presence = presence_of(agent)
    assert presence.status == PresenceStatus.AVAILABLE
    assert presence.offline_deadline is None
    assert presence.status_changed_at == T0
    assert sent == [
        (
            "staff",
            {
                "type": "presence.changed",
                "user_id": agent.pk,
                "name": AGENT1.full_name,
                "status": "available",
                "changed_at": "2025-03-03T09:00:00Z",
            },
        )
    ]
    with django_capture_on_commit_callbacks(execute=True):
        presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    assert len(sent) == 1  # no change, no event


def test_broadcast_waits_for_commit(sent, django_capture_on_commit_callbacks) -> None:
    agent = AgentFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        presence_set(user=agent, status=PresenceStatus.AWAY)
    assert sent == []  # not before commit
    assert len(callbacks) == 1


def test_set_available_without_connection_lapses_after_grace(clock) -> None:
    agent = SUPERVISOR.create()
    presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    assert presence_of(agent).offline_deadline == T0 + timedelta(seconds=GRACE)


def test_set_away_or_offline_clears_deadline(clock) -> None:
    agent = AgentFactory()
    presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    presence_set(user=agent, status=PresenceStatus.AWAY)
    assert presence_of(agent).offline_deadline is None
    presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    presence_set(user=agent, status=PresenceStatus.OFFLINE)
    assert presence_of(agent).offline_deadline is None


# --- connections -------------------------------------------------------------------------
def test_connections_open_and_close(clock) -> None:
    agent = AgentFactory()
    connection_open(user=agent, channel_name="c1")
    connection_open(user=agent, channel_name="c2")
    presence_set(user=agent, status=PresenceStatus.AVAILABLE)

    connection_close(channel_name="c1")
    assert presence_of(agent).offline_deadline is None  # still one console

    clock.shift(5)
    connection_close(channel_name="c2")
    assert presence_of(agent).offline_deadline == T0 + timedelta(seconds=5 + GRACE)
    assert presence_of(agent).status == PresenceStatus.AVAILABLE  # until the sweep

    connection_open(user=agent, channel_name="c3")
    assert presence_of(agent).offline_deadline is None


def test_close_is_idempotent_and_does_not_move_the_deadline(clock) -> None:
    agent = AgentFactory()
    connection_open(user=agent, channel_name="c1")
    presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    connection_close(channel_name="c1")
    clock.shift(10)
    connection_close(channel_name="c1")
    connection_close(channel_name="never-opened")
    assert presence_of(agent).offline_deadline == T0 + timedelta(seconds=GRACE)


def test_closing_the_last_connection_of_an_away_agent_sets_no_deadline() -> None:
    agent = AgentFactory()
    connection_open(user=agent, channel_name="c1")
    presence_set(user=agent, status=PresenceStatus.AWAY)
    connection_close(channel_name="c1")
    assert presence_of(agent).offline_deadline is None


def test_client_connections_are_tracked_without_presence() -> None:
    alice = ALICE.create()
    connection_open(user=alice, channel_name="c1")
    assert AgentConnection.objects.filter(user=alice).exists()
    assert not AgentPresence.objects.exists()
    connection_close(channel_name="c1")
    assert not AgentConnection.objects.exists()


def test_staff_hear_when_a_client_comes_and_goes(sent, django_capture_on_commit_callbacks) -> None:
    """Only the first socket and the last close of a client are announced
    (the console's follow-up cards offer Push chat while it is online)."""
    alice = ALICE.create()
    with django_capture_on_commit_callbacks(execute=True):
        connection_open(user=alice, channel_name="tab-1")
        connection_open(user=alice, channel_name="tab-2")
        connection_close(channel_name="tab-1")
        connection_close(channel_name="tab-2")
        connection_close(channel_name="tab-2")
    frames = [(group, msg) for group, msg in sent if msg["type"] == "client.presence"]
    assert frames == [
        ("staff", {"type": "client.presence", "user_id": alice.pk, "online": True}),
        ("staff", {"type": "client.presence", "user_id": alice.pk, "online": False}),
    ]


def test_agent_connections_do_not_announce_client_presence(
    sent, django_capture_on_commit_callbacks
) -> None:
    agent = AgentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        connection_open(user=agent, channel_name="c1")
        connection_close(channel_name="c1")
    assert not [msg for _, msg in sent if msg["type"] == "client.presence"]


def test_reopening_a_channel_name_does_not_duplicate(clock) -> None:
    agent = AgentFactory()
    connection_open(user=agent, channel_name="c1")
    clock.shift(30)
    connection_open(user=agent, channel_name="c1")
    row = AgentConnection.objects.get()
    assert row.last_seen == T0 + timedelta(seconds=30)


def test_heartbeat_refreshes_many_and_names_the_swept(clock) -> None:
    agent = AgentFactory()
    connection_open(user=agent, channel_name="c1")
    connection_open(user=agent, channel_name="c2")
    connection_open(user=agent, channel_name="not-in-this-batch")
    clock.shift(20)
    assert connections_heartbeat(channel_names=["c1", "c2", "gone"]) == {"gone"}
    seen = dict(AgentConnection.objects.values_list("channel_name", "last_seen"))
    assert seen == {
        "c1": T0 + timedelta(seconds=20),
        "c2": T0 + timedelta(seconds=20),
        "not-in-this-batch": T0,
    }
    assert connections_heartbeat(channel_names=[]) == set()


# --- the sweep ------------------------------------------------------------------------------
def left_at_t0(clock: Any) -> Any:
    """An available agent whose last console closed at T0."""
    agent = AgentFactory()
    connection_open(user=agent, channel_name=f"c-{agent.pk}")
    presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    connection_close(channel_name=f"c-{agent.pk}")
    return agent


@pytest.mark.parametrize(
    ("offset", "flipped"),
    [
        (timedelta(seconds=GRACE) - timedelta(microseconds=1), 0),  # just before
        (timedelta(seconds=GRACE), 1),  # at the deadline
        (timedelta(seconds=GRACE + 1), 1),  # after
    ],
)
def test_sweep_deadline_boundaries(clock, offset: timedelta, flipped: int) -> None:
    agent = left_at_t0(clock)
    clock.move_to(T0 + offset)
    assert presence_sweep() == flipped
    expected = PresenceStatus.OFFLINE if flipped else PresenceStatus.AVAILABLE
    assert presence_of(agent).status == expected


def test_sweep_twice_flips_once_and_broadcasts_once(
    clock, sent, django_capture_on_commit_callbacks
) -> None:
    agent = left_at_t0(clock)
    clock.shift(GRACE)
    with django_capture_on_commit_callbacks(execute=True):
        assert presence_sweep() == 1
        assert presence_sweep() == 0
        assert presence_sweep(now=T0 + timedelta(hours=1)) == 0
    presence = presence_of(agent)
    assert presence.status == PresenceStatus.OFFLINE
    assert presence.offline_deadline is None
    assert presence.status_changed_at == T0 + timedelta(seconds=GRACE)
    assert [(group, msg["user_id"], msg["status"]) for group, msg in sent] == [
        ("staff", agent.pk, "offline")
    ]


def test_sweep_leaves_a_reconnected_agent_alone(clock) -> None:
    agent = left_at_t0(clock)
    clock.shift(GRACE - 1)
    connection_open(user=agent, channel_name="back")
    clock.shift(10)
    assert presence_sweep() == 0
    assert presence_of(agent).status == PresenceStatus.AVAILABLE


def test_sweep_ignores_away_and_offline_agents(clock) -> None:
    away, offline = AgentFactory(), AgentFactory()
    presence_set(user=away, status=PresenceStatus.AWAY)
    presence_set(user=offline, status=PresenceStatus.OFFLINE)
    AgentPresence.objects.update(offline_deadline=T0)  # even with a stray deadline
    clock.shift(GRACE * 2)
    assert presence_sweep() == 0
    assert presence_of(away).status == PresenceStatus.AWAY


def test_sweep_drops_stale_connections_then_expires(clock) -> None:
    """A daphne that died: its connection rows stop heartbeating."""
    agent = AgentFactory()
    connection_open(user=agent, channel_name="dead-daphne")
    presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    fresh = AgentFactory()
    connection_open(user=fresh, channel_name="alive")
    presence_set(user=fresh, status=PresenceStatus.AVAILABLE)

    clock.shift(STALE)
    connections_heartbeat(channel_names=["alive"])
    assert presence_sweep() == 0  # exactly STALE old: not yet stale
    assert AgentConnection.objects.count() == 2

    clock.shift(1)
    assert presence_sweep() == 0
    assert list(AgentConnection.objects.values_list("channel_name", flat=True)) == ["alive"]
    assert presence_of(agent).offline_deadline == T0 + timedelta(seconds=STALE + 1 + GRACE)
    assert presence_of(fresh).offline_deadline is None

    clock.shift(GRACE)
    assert presence_sweep() == 1
    assert presence_of(agent).status == PresenceStatus.OFFLINE
    assert presence_of(fresh).status == PresenceStatus.AVAILABLE


def test_sweep_repairs_a_deadline_of_a_connected_agent(clock) -> None:
    agent = AgentFactory()
    connection_open(user=agent, channel_name="c1")
    presence_set(user=agent, status=PresenceStatus.AVAILABLE)
    AgentPresence.objects.update(offline_deadline=T0 + timedelta(seconds=5))
    clock.shift(10)
    assert presence_sweep() == 0
    assert presence_of(agent).status == PresenceStatus.AVAILABLE
    assert presence_of(agent).offline_deadline is None


def test_sweep_handles_many_agents(clock) -> None:
    agents = [left_at_t0(clock) for _ in range(5)]
    clock.shift(GRACE)
    assert presence_sweep() == 5
    assert set(AgentPresence.objects.filter(user__in=agents).values_list("status", flat=True)) == {
        PresenceStatus.OFFLINE
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_flip_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (real concurrent transactions)")
    agents = [AgentFactory() for _ in range(3)]
    for agent in agents:
        presence_set(user=agent, status=PresenceStatus.AVAILABLE)  # no console: deadline
    later = datetime.now(UTC) + timedelta(hours=1)
    results: list[int] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        from django.db import connections

        try:
            barrier.wait()
            results.append(presence_sweep(now=later))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 3
    assert AgentPresence.objects.filter(status=PresenceStatus.OFFLINE).count() == 3
