"""config.channel_layer: one reader per process delivers to every socket, in
order, in batches; a socket that goes away takes nothing of another with it;
losing Redis fails every waiting socket, as the stock layer does."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from config.channel_layer import RECEIVE_BATCH, SwitchboardChannelLayer
from config.redis_urls import channels_hosts


def new_layer(**config: Any) -> SwitchboardChannelLayer:
    hosts = config.pop("hosts", settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"])
    return SwitchboardChannelLayer(
        hosts=hosts, prefix=f"test-layer-{uuid.uuid4().hex[:12]}:", capacity=1000, **config
    )


@pytest.fixture
async def layer() -> AsyncIterator[SwitchboardChannelLayer]:
    made = new_layer()
    yield made
    await made.flush()


async def test_a_burst_arrives_whole_and_in_order(layer) -> None:
    first, second = await layer.new_channel(), await layer.new_channel()
    count = RECEIVE_BATCH * 2 + 7  # more than one batch
    for number in range(count):
        await layer.send(first if number % 2 else second, {"type": "x", "n": number})
    got_first = [(await layer.receive(first))["n"] for _ in range(count // 2)]
    got_second = [(await layer.receive(second))["n"] for _ in range(count - count // 2)]
    assert got_first == list(range(1, count, 2))
    assert got_second == list(range(0, count, 2))


async def test_a_group_send_reaches_every_local_member_once(layer) -> None:
    members = [await layer.new_channel() for _ in range(3)]
    for channel in members:
        await layer.group_add("room", channel)
    await layer.group_send("room", {"type": "hello"})
    for channel in members:
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "hello"}
    for channel in members:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(channel), 0.2)


async def test_a_socket_that_goes_away_takes_nothing_with_it(layer) -> None:
    leaving, staying = await layer.new_channel(), await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(leaving))
    await asyncio.sleep(0.1)  # the reader is waiting in Redis now
    waiting.cancel()
    await layer.send(staying, {"type": "for.staying"})
    assert await asyncio.wait_for(layer.receive(staying), 5) == {"type": "for.staying"}
    assert leaving not in layer.receive_buffer


def test_a_loop_that_ends_does_not_wait_for_its_reader() -> None:
    """Tests and async_to_sync run a loop per call; asyncio cancels the reader
    at the end of each, and that must not hang (redis-py swallows a cancel
    during a read with a socket timeout: the reader reads without one)."""
    layer = new_layer()

    async def send_and_receive() -> dict[str, Any]:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "once"})
        return await layer.receive(channel)

    for _ in range(3):
        assert async_to_sync(send_and_receive)() == {"type": "once"}
    async_to_sync(layer.flush)()


async def test_losing_redis_fails_every_waiting_socket() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    layer = new_layer(hosts=channels_hosts(f"redis://127.0.0.1:{port}/0"))
    channels = [await layer.new_channel() for _ in range(2)]
    waiting = [asyncio.ensure_future(layer.receive(channel)) for channel in channels]
    done, _ = await asyncio.wait(waiting, timeout=10)
    assert len(done) == 2
    for task in done:
        with pytest.raises(Exception, match="onnect"):
            task.result()


async def test_a_socket_busy_when_redis_is_lost_hears_of_it_next(layer, monkeypatch) -> None:
    waiting, busy = await layer.new_channel(), await layer.new_channel()
    await layer.send(busy, {"type": "before"})
    assert await asyncio.wait_for(layer.receive(busy), 5) == {"type": "before"}
    # ``busy`` is not waiting now. The reader's next read fails.
    first_receive = asyncio.ensure_future(layer.receive(waiting))
    await asyncio.sleep(0.1)

    async def lost(*args: Any) -> list[bytes]:
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(layer, "_read_batch", lost)
    await layer.send(waiting, {"type": "last"})  # the pending read gets it, the next fails
    assert await asyncio.wait_for(first_receive, 5) == {"type": "last"}
    reader = layer._readers[asyncio.get_running_loop()]
    await asyncio.wait_for(reader, 5)  # it stopped at the failure
    monkeypatch.undo()  # Redis is back: a new reader would read again
    for channel in (waiting, busy):
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(layer.receive(channel), 5)
