"""Presence expiry end to end: browser socket -> daphne -> database, and the
Celery beat sweep in a worker process -> Redis -> daphne -> other agents."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client
from websockets.sync.client import ClientConnection, connect

from presence.models import AgentConnection, AgentPresence, PresenceStatus
from tests.factories import AgentFactory
from tests.integration.conftest import Stack, wait_until
from tests.personas import AGENT1, AGENT2

GRACE_SECONDS = 2
# Bound for "offline through beat": grace + a 1-s beat + a task round trip,
# with room for a slow CI machine. The flip cannot come earlier than the grace.
EXPIRY_TIMEOUT = 30


@contextmanager
def open_socket(stack: Stack, user: Any) -> Iterator[ClientConnection]:
    """A logged-in browser's socket: session cookie from a real login session."""
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    with connect(
        stack.ws_url,
        origin=stack.origin,  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie},
        open_timeout=10,
        close_timeout=2,
    ) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello" and hello["user"]["id"] == user.pk
        yield ws


def receive(ws: ClientConnection, predicate: Any, *, timeout: float) -> dict[str, Any]:
    """The first frame that satisfies ``predicate`` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail("expected frame did not arrive")
        frame = json.loads(ws.recv(timeout=remaining))
        if predicate(frame):
            return frame


def status_of(user: Any) -> str:
    return AgentPresence.objects.get(user=user).status


def test_agent_goes_offline_through_beat_after_closing_the_console(stack_factory) -> None:
    stack = stack_factory(
        SWITCHBOARD_SWEEP_SECONDS="1",
        SWITCHBOARD_PRESENCE_GRACE_SECONDS=str(GRACE_SECONDS),
    )
    leaver = AGENT1.create()
    watcher = AGENT2.create()
    with open_socket(stack, watcher) as observer, open_socket(stack, leaver) as console:
        console.send(json.dumps({"type": "presence.set", "status": "available", "ref": "a"}))
        reply = receive(console, lambda f: f.get("ref") == "a", timeout=10)
        assert reply == {"type": "presence.state", "status": "available", "ref": "a"}
        changed = receive(
            observer,
            lambda f: f["type"] == "presence.changed" and f["user_id"] == leaver.pk,
            timeout=10,
        )
        assert changed["status"] == "available"
        assert status_of(leaver) == PresenceStatus.AVAILABLE
        assert AgentConnection.objects.filter(user=leaver).count() == 1

        console.close()
        closed_at = time.monotonic()
        wait_until(
            lambda: not AgentConnection.objects.filter(user=leaver).exists(),
            timeout=10,
            what="daphne to unregister the closed socket",
        )
        presence = AgentPresence.objects.get(user=leaver)
        if presence.status == PresenceStatus.AVAILABLE:  # normally: still in grace
            assert presence.offline_deadline is not None

        wait_until(
            lambda: status_of(leaver) == PresenceStatus.OFFLINE,
            timeout=EXPIRY_TIMEOUT,
            what="the beat sweep to turn the agent offline",
        )
        elapsed = time.monotonic() - closed_at
        assert elapsed >= GRACE_SECONDS - 0.5, f"flipped after {elapsed:.1f} s, before the grace"

        # The worker's broadcast crossed Redis and daphne to the other agent.
        offline = receive(
            observer,
            lambda f: f["type"] == "presence.changed" and f["user_id"] == leaver.pk,
            timeout=10,
        )
        assert offline["status"] == "offline"
        assert "presence.tasks.sweep" in stack.log("celery")


def test_agent_of_a_dead_daphne_goes_offline(stack_factory) -> None:
    """daphne killed: no close ever reaches the database; the connection goes
    stale, the sweep drops it and the agent expires after the grace."""
    stack = stack_factory(
        SWITCHBOARD_SWEEP_SECONDS="1",
        SWITCHBOARD_PRESENCE_GRACE_SECONDS=str(GRACE_SECONDS),
        SWITCHBOARD_PRESENCE_HEARTBEAT_SECONDS="1",
        SWITCHBOARD_PRESENCE_STALE_SECONDS="5",
    )
    agent = AgentFactory()
    with open_socket(stack, agent) as console:
        console.send(json.dumps({"type": "presence.set", "status": "available", "ref": 1}))
        receive(console, lambda f: f.get("ref") == 1, timeout=10)
        assert status_of(agent) == PresenceStatus.AVAILABLE
        stack.kill("daphne")
    assert AgentConnection.objects.filter(user=agent).exists()  # nobody said goodbye

    wait_until(
        lambda: status_of(agent) == PresenceStatus.OFFLINE,
        timeout=EXPIRY_TIMEOUT,
        what="the sweep to expire the agent of a dead daphne",
    )
    assert not AgentConnection.objects.filter(user=agent).exists()
