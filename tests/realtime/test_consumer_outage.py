"""The /ws/ socket while Redis is unreachable: sockets close with 4011 and
are cleaned up, frames that need the layer are refused, and the log gets one
warning for the outage (realtime.outage), not a traceback per socket."""

from __future__ import annotations

import asyncio
import copy
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer

from config.redis_urls import channels_hosts
from presence.models import AgentConnection
from realtime import outage
from tests.factories import AgentFactory
from tests.realtime.conftest import receive_type, send
from tests.realtime.test_consumer import assert_closed, assert_open, make

pytestmark = pytest.mark.django_db(transaction=True)

LOST = "Redis is unreachable"


@pytest.fixture(autouse=True)
def own_outage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This test's view of Redis, not one a former test left "lost"."""
    monkeypatch.setattr(outage.redis_outage, "current", outage.Outage())
    yield


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= 40]


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "realtime.outage"]


async def eventually(check: Any, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await sync_to_async(check)():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.05)


async def test_losing_redis_closes_every_socket_4011_quietly_and_cleans_up(
    connect, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    agents = [await make(AgentFactory) for _ in range(3)]
    sockets = [await connect(agent) for agent in agents]
    names = await sync_to_async(
        lambda: list(AgentConnection.objects.values_list("channel_name", flat=True))
    )()
    assert len(names) == 3
    layer = get_channel_layer()
    read_batch = layer._read_batch
    reads = 0

    async def lost_once(*args: Any) -> list[bytes]:
        nonlocal reads
        reads += 1
        if reads == 1:  # Redis went away, and came back at once
            raise redis.exceptions.ConnectionError("Connection closed by server.")
        return await read_batch(*args)

    monkeypatch.setattr(layer, "_read_batch", lost_once)
    # The read waiting in Redis returns this; the reader's next read fails.
    await layer.send(names[0], {"type": "test.nudge"})
    for ws in sockets:
        await assert_closed(ws, 4011)
    # Each socket's disconnect ran: presence dropped its connection rows.
    await eventually(lambda: not AgentConnection.objects.exists())
    assert errors(caplog) == []
    lost, back = outage_warnings(caplog)  # the disconnects reached Redis again
    assert lost.startswith(f"{LOST} (reading the sockets' messages: Connection closed by server.)")
    assert back.startswith("Redis is reachable again")


@pytest.fixture
def redis_away(settings: Any) -> Iterator[None]:
    """The channel layer points at a port nobody listens on (the refused
    connections of a Redis that is down), for the test's body only: the
    fixtures that clean up after it need the real one."""
    real = settings.CHANNEL_LAYERS
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    away = copy.deepcopy(real)
    away["default"]["CONFIG"]["hosts"] = channels_hosts(f"redis://127.0.0.1:{port}/0")
    settings.CHANNEL_LAYERS = away
    yield
    settings.CHANNEL_LAYERS = real


async def test_sockets_opened_while_redis_is_away_are_closed_4011_quietly(
    connect, redis_away: None, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await make(AgentFactory)
    for _ in range(3):  # a browser trying again and again
        ws = await connect(agent, read_hello=False)
        await assert_closed(ws, 4011)
    assert errors(caplog) == []
    assert len(outage_warnings(caplog)) == 1 and LOST in outage_warnings(caplog)[0]


async def test_a_frame_that_needs_redis_while_it_is_away_is_refused_unavailable(
    connect, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from realtime import registry

    @registry.frame("test.join")
    async def join(ctx, data):  # type: ignore[no-untyped-def]
        await ctx.join_group("test.room")
        return {"type": "test.joined"}

    try:
        agent = await make(AgentFactory)
        ws = await connect(agent)

        async def refused(self: Any, group: str, channel: str) -> None:
            raise redis.exceptions.ConnectionError("Error 111 connecting. Connection refused.")

        monkeypatch.setattr(RedisChannelLayer, "group_add", refused)
        for ref in ("j1", "j2"):
            await send(ws, {"type": "test.join", "ref": ref})
            error = await receive_type(ws, "error")
            assert (error["code"], error["ref"]) == ("unavailable", ref)
        await assert_open(ws)
        assert errors(caplog) == []
        assert len(outage_warnings(caplog)) == 1
    finally:
        registry._frames.pop("test.join", None)
