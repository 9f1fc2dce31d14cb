"""realtime.broadcast's outbox: broadcasts from a worker thread of a running event
loop (daphne's database thread) are handed to that loop, not waited for; a
send that fails because Redis is unreachable goes again once it is back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from realtime import broadcast as realtime
from realtime import outage

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED = "Connection closed by server."  # what a connection that died with Redis says


@pytest.fixture(autouse=True)
def own_outage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This test's view of Redis, not one a former test left "lost"."""
    monkeypatch.setattr(outage.redis_outage, "current", outage.Outage())
    yield


def levels(caplog: pytest.LogCaptureFixture, logger: str) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == logger]


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= 40]


async def receive_all(layer: Any, channel: str) -> list[int]:
    """Every ``n`` that reaches ``channel`` until nothing more comes for 0.5 s."""
    got = []
    while True:
        try:
            message = await asyncio.wait_for(layer.receive(channel), 0.5)
        except TimeoutError:
            return got
        got.append(message["n"])


async def _listen(group: str) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def test_worker_thread_hands_off_and_each_group_keeps_its_order() -> None:
    layer = get_channel_layer()
    first, second = await _listen("outbox.a"), await _listen("outbox.b")
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def commit_side() -> None:
        # Stands for on_commit callbacks in the database thread: they return
        # at once, the loop sends afterwards.
        threads.append(threading.get_ident())
        for n in range(30):
            realtime.send_now("outbox.a", {"type": "t.n", "n": n})
            realtime.send_now("outbox.b", {"type": "t.n", "n": n})
        realtime.send_many([("outbox.a", {"type": "t.n", "n": 30})])

    await sync_to_async(commit_side)()
    assert threads and threads[0] != loop_thread
    got_a = [(await asyncio.wait_for(layer.receive(first), 5))["n"] for _ in range(31)]
    got_b = [(await asyncio.wait_for(layer.receive(second), 5))["n"] for _ in range(30)]
    assert got_a == list(range(31))
    assert got_b == list(range(30))


async def test_a_send_that_fails_for_another_reason_is_logged_and_the_next_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    layer = get_channel_layer()
    channel = await _listen("outbox.c")
    real_group_send = layer.group_send

    async def flaky(group: str, message: dict, **kwargs: Any) -> None:
        if message.get("n") == 0:
            raise ValueError("cannot serialize this")  # no second try mends that
        await real_group_send(group, message, **kwargs)

    monkeypatch.setattr(layer, "group_send", flaky)

    def commit_side() -> None:
        realtime.send_now("outbox.c", {"type": "t.n", "n": 0})
        realtime.send_now("outbox.c", {"type": "t.n", "n": 1})

    await sync_to_async(commit_side)()
    message = await asyncio.wait_for(layer.receive(channel), 5)
    assert message["n"] == 1
    assert "broadcast of t.n to outbox.c failed" in caplog.text


def test_plain_sync_code_sends_before_returning() -> None:
    """No event loop behind the caller (a Celery task, a test): sent at once."""
    assert realtime._caller_loop() is None


async def test_while_sends_hang_the_outbox_holds_a_bounded_number_of_events(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    layer = get_channel_layer()
    sent: list[int] = []
    redis_back = asyncio.Event()

    async def hanging(group: str, message: dict, **kwargs: object) -> None:
        await redis_back.wait()  # Redis hung: every send waits
        sent.append(message["n"])

    monkeypatch.setattr(layer, "group_send", hanging)
    monkeypatch.setattr(realtime, "MAX_PENDING_EVENTS", 10)

    def commit_side() -> None:
        for n in range(15):
            realtime.send_now(f"outbox.hang.{n % 3}", {"type": "t.n", "n": n})

    await sync_to_async(commit_side)()
    await asyncio.sleep(0.2)
    outbox = realtime._outboxes[asyncio.get_running_loop()]
    queued = sum(len(queue) for queue in outbox.pending.values())
    in_flight = 3  # each group's first event, waiting for Redis
    # Whether the senders took their first event before or after the rest
    # arrived, at most 10 wait and the others were dropped.
    assert outbox.count == queued <= 10
    assert in_flight + queued + outbox.dropped == 15
    assert outbox.dropped >= 2
    assert "dropped t.n to outbox.hang." in caplog.text

    redis_back.set()
    for _ in range(100):
        if len(sent) == 15 - outbox.dropped:
            break
        await asyncio.sleep(0.01)
    assert len(sent) == 15 - outbox.dropped
    for group in range(3):  # each group's survivors still in order
        mine = [n for n in sent if n % 3 == group]
        assert mine == sorted(mine)
    assert outbox.count == 0


# --- Sends while Redis is unreachable ---------------------------------------------------
async def test_sends_that_fail_on_a_lost_connection_go_again_once_redis_is_back_in_order(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    layer = get_channel_layer()
    channel = await _listen("outbox.retry")
    connection = layer.connection(0)
    real_evalsha = connection.evalsha
    failures = []

    async def restarting(*args: Any) -> Any:
        # Redis just restarted: the first three sends die on the connections
        # that did not survive it, before Redis saw them.
        if len(failures) < 3:
            failures.append(args)
            raise redis.exceptions.ConnectionError(CLOSED)
        return await real_evalsha(*args)

    monkeypatch.setattr(connection, "evalsha", restarting)

    def commit_side() -> None:
        for n in range(3):
            realtime.send_now("outbox.retry", {"type": "t.n", "n": n})

    await sync_to_async(commit_side)()
    assert await receive_all(layer, channel) == [0, 1, 2]  # each once, in order
    assert len(failures) == 3
    assert errors(caplog) == []
    assert [level for level, _ in levels(caplog, "realtime.outage")] == ["WARNING", "WARNING"]
    lost, back = (message for _, message in levels(caplog, "realtime.outage"))
    assert "Redis is unreachable" in lost and CLOSED in lost
    assert "Redis is reachable again" in back and "(failed calls meanwhile: 3)" in back


async def test_a_send_redis_ran_before_its_answer_was_lost_reaches_nobody_twice(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Whether a failed try was stored is unknown to the sender; it tries
    again with the same id, which Redis knows by then."""
    layer = get_channel_layer()
    channel = await _listen("outbox.once")
    connection = layer.connection(0)
    real_evalsha = connection.evalsha
    tries = []

    async def answer_lost(*args: Any) -> Any:
        tries.append(args)
        result = await real_evalsha(*args)
        if len(tries) == 1:
            raise redis.exceptions.ConnectionError(CLOSED)  # ran, but no answer came
        return result

    monkeypatch.setattr(connection, "evalsha", answer_lost)

    def commit_side() -> None:
        realtime.send_now("outbox.once", {"type": "t.n", "n": 0})
        realtime.send_now("outbox.once", {"type": "t.n", "n": 1})

    await sync_to_async(commit_side)()
    assert await receive_all(layer, channel) == [0, 1]
    assert len(tries) == 3  # n=0 twice, n=1 once
    assert errors(caplog) == []


async def test_a_send_is_given_up_when_redis_stays_away_and_the_next_one_goes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(realtime, "RETRY_SECONDS", 0.3)
    layer = get_channel_layer()
    channel = await _listen("outbox.away")
    connection = layer.connection(0)
    real_evalsha = connection.evalsha
    redis_away = True
    tries = 0

    async def away(*args: Any) -> Any:
        nonlocal tries
        if redis_away:
            tries += 1
            raise redis.exceptions.ConnectionError("Error 111 connecting. Connection refused.")
        return await real_evalsha(*args)

    monkeypatch.setattr(connection, "evalsha", away)
    await sync_to_async(realtime.send_now)("outbox.away", {"type": "t.n", "n": 0})
    for _ in range(100):
        if not realtime._outboxes[asyncio.get_running_loop()].pending:
            break
        await asyncio.sleep(0.05)
    assert tries > 1  # tried again before it gave up
    redis_away = False
    await sync_to_async(realtime.send_now)("outbox.away", {"type": "t.n", "n": 1})
    assert await receive_all(layer, channel) == [1]
    assert errors(caplog) == []
    assert any(
        "gave up on broadcast of t.n to outbox.away" in m
        for _, m in levels(caplog, "realtime.broadcast")
    )
    assert len(levels(caplog, "realtime.outage")) == 2  # lost, back: once each
