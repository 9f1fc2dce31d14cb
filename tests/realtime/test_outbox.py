"""realtime.broadcast's outbox: broadcasts from a worker thread of a running event
loop (daphne's database thread) are handed to that loop, not waited for."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from realtime import broadcast as realtime

pytestmark = pytest.mark.django_db(transaction=True)


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
            raise ValueError("cannot serialize this")  # not Redis being away
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
