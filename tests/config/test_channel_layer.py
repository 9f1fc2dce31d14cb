"""realtime.layer: one reader per process delivers to every socket, in
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

from config.redis_urls import channels_hosts
from realtime import outage
from realtime.layer import RECEIVE_BATCH, SwitchboardChannelLayer


def new_layer(**config: Any) -> SwitchboardChannelLayer:
    hosts = config.pop("hosts", settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"])
    config.setdefault("capacity", 1000)
    config.setdefault("prefix", f"test-layer-{uuid.uuid4().hex[:12]}:")
    return SwitchboardChannelLayer(hosts=hosts, **config)


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


# --- Group sends in one round trip --------------------------------------------------
async def test_a_group_send_is_one_round_trip(layer, monkeypatch) -> None:
    members = [await layer.new_channel() for _ in range(3)]
    for channel in members:
        await layer.group_add("room", channel)
    connection = layer.connection(0)
    commands: list[str] = []
    real = connection.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        commands.append(str(args[0]))
        return await real(*args, **options)

    monkeypatch.setattr(connection, "execute_command", counted)
    await layer.group_send("room", {"type": "hello"})
    assert commands in (["EVALSHA"], ["EVALSHA", "EVAL"])  # EVAL once per Redis start
    for channel in members:
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "hello"}


async def test_a_group_send_can_leave_one_socket_out(layer) -> None:
    sender, other, elsewhere = [await layer.new_channel() for _ in range(3)]
    other_process = new_layer(prefix=layer.prefix)
    remote = await other_process.new_channel()
    for channel in (sender, other, remote):
        await layer.group_add("chat", channel)
    await layer.group_send("chat", {"type": "said", "n": 1}, except_channel=sender)
    assert await asyncio.wait_for(layer.receive(other), 5) == {"type": "said", "n": 1}
    assert await asyncio.wait_for(other_process.receive(remote), 5) == {"type": "said", "n": 1}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(sender), 0.3)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(elsewhere), 0.1)  # not a member at all
    await other_process.close_pools()


async def test_a_group_send_works_after_redis_forgot_the_script(layer) -> None:
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    await layer.connection(0).script_flush()
    await layer.group_send("room", {"type": "again"})
    assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "again"}


async def test_a_group_send_skips_a_full_process_channel(layer, caplog) -> None:
    small = new_layer(capacity=2, prefix=layer.prefix)
    channel = await small.new_channel()
    await small.group_add("room", channel)
    for number in range(4):
        await small.group_send("room", {"type": "n", "n": number})
    received = [(await asyncio.wait_for(small.receive(channel), 5))["n"] for _ in range(2)]
    assert received == [0, 1]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(small.receive(channel), 0.3)
    assert "over capacity" in caplog.text
    await small.close_pools()


async def test_a_group_send_forgets_members_past_the_group_expiry(layer) -> None:
    stale, fresh = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room", stale)
    await layer.group_add("room", fresh)
    # As if ``stale`` had joined longer ago than the group expiry.
    await layer.connection(0).zadd(layer._group_key("room"), {stale: 1})
    await layer.group_send("room", {"type": "hi"})
    assert await asyncio.wait_for(layer.receive(fresh), 5) == {"type": "hi"}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(stale), 0.3)
    members = await layer.connection(0).zrange(layer._group_key("room"), 0, -1)
    assert members == [fresh.encode()]


async def test_what_waits_is_read_in_one_round_trip(layer, monkeypatch) -> None:
    channel = await layer.new_channel()
    for number in range(5):
        await layer.send(channel, {"type": "n", "n": number})
    batches: list[int] = []
    read = layer._read_batch

    async def counted(*args: Any) -> list[bytes]:
        contents = await read(*args)
        batches.append(len(contents))
        return contents

    monkeypatch.setattr(layer, "_read_batch", counted)
    got = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(5)]
    assert got == [0, 1, 2, 3, 4]
    assert batches == [5]


async def test_many_group_sends_go_pipelined_in_order(layer, monkeypatch) -> None:
    sender, other = await layer.new_channel(), await layer.new_channel()
    for channel in (sender, other):
        await layer.group_add("one", channel)
    await layer.group_add("two", other)
    await layer.connection(0).script_flush()  # the first pipeline finds no script
    sends = [("one", {"type": "n", "n": number}, sender) for number in range(450)]
    sends.append(("two", {"type": "last"}, None))
    await layer.group_send_many(sends)
    got = [await asyncio.wait_for(layer.receive(other), 5) for _ in range(451)]
    assert got == [{"type": "n", "n": number} for number in range(450)] + [{"type": "last"}]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(sender), 0.3)


async def test_only_the_sends_that_missed_the_script_are_sent_again(layer, monkeypatch) -> None:
    """Another process may load the script while a pipeline runs: the sends
    that found it went out and must not go twice."""
    from redis.exceptions import NoScriptError

    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    pipelined = layer._pipelined
    calls: list[int] = []

    async def second_missed(connection: Any, chunk: list[tuple[Any, ...]]) -> list[Any]:
        calls.append(len(chunk))
        if len(calls) > 1:
            return await pipelined(connection, chunk)
        # As if the script was missing for the second send only.
        sent = await pipelined(connection, [chunk[0], *chunk[2:]])
        return [sent[0], NoScriptError("NOSCRIPT"), *sent[1:]]

    monkeypatch.setattr(layer, "_pipelined", second_missed)
    await layer.group_send_many([("room", {"type": "n", "n": number}, None) for number in range(3)])
    got = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(3)]
    # Each send, once, in order: the retried one kept the score of its turn.
    assert got == [0, 1, 2]
    assert calls == [3, 1]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.3)


async def test_a_new_redis_connection_does_not_look_up_the_redis_version(
    layer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # redis-py reads its version from the installed packages' metadata for
    # every connection it makes unless told: a scan of site-packages on the
    # event loop, per connection.
    lookups: list[bool] = []
    monkeypatch.setattr("redis.utils.get_lib_version", lambda: lookups.append(True) or "0")
    pool = layer.create_pool(0)
    try:
        connection = pool.make_connection()
        assert lookups == []
        assert connection.driver_info.lib_version
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "x"})  # through the layer's own pools
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "x"}
        assert lookups == []
    finally:
        await pool.disconnect()


async def test_a_send_with_an_id_is_stored_once_however_often_it_is_sent(layer) -> None:
    """What lets a send be tried again when its answer was lost (realtime.broadcast)."""
    members = [await layer.new_channel() for _ in range(2)]
    for channel in members:
        await layer.group_add("room", channel)
    for _ in range(3):
        await layer.group_send("room", {"type": "said", "n": 1}, send_id="a1")
    await layer.group_send("room", {"type": "said", "n": 2}, send_id="a2")
    await layer.group_send("room", {"type": "said", "n": 3})  # no id: no memory
    await layer.group_send("room", {"type": "said", "n": 3})
    for channel in members:
        got = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(4)]
        assert got == [1, 2, 3, 3]
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(channel), 0.3)


# --- Losing Redis: one warning per outage (realtime.outage) ---------------------------
def unreachable_hosts() -> list[dict[str, Any]]:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return channels_hosts(f"redis://127.0.0.1:{port}/0")


async def test_an_outage_is_one_warning_and_its_end_one_more(layer, monkeypatch, caplog) -> None:
    monkeypatch.setattr(outage.redis_outage, "current", outage.Outage())
    away = new_layer(hosts=unreachable_hosts())
    channels = [await away.new_channel() for _ in range(3)]
    for channel in channels:
        with pytest.raises(Exception, match="onnect"):
            await away.group_add("room", channel)
    with pytest.raises(Exception, match="onnect"):
        await away.group_send("room", {"type": "lost"})
    receiving = [asyncio.ensure_future(away.receive(channel)) for channel in channels]
    done, _ = await asyncio.wait(receiving, timeout=10)
    assert len(done) == 3  # every waiting socket hears of it
    for task in done:
        assert outage.is_connection_error(task.exception())

    await layer.group_add("room", await layer.new_channel())  # Redis answers again
    await layer.group_add("room", await layer.new_channel())
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= 30]
    assert [level for level, _ in logged] == ["WARNING", "WARNING"], logged
    assert logged[0][1].startswith("Redis is unreachable (group_add: ")
    assert logged[1][1].startswith("Redis is reachable again after ")
    assert "(failed calls meanwhile: 5)" in logged[1][1]  # 3 adds, 1 send, 1 read
