"""Sends from plain sync code (a Celery task such as the timer sweep) go
through one long-lived event loop per process with a channel layer of its own,
so its Redis connections outlive a single send (realtime.broadcast, "sender loop")."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime import broadcast as realtime


def receive_types(layer: Any, channel: str, count: int) -> list[str]:
    async def receive() -> list[str]:
        return [(await layer.receive(channel))["type"] for _ in range(count)]

    return async_to_sync(receive)()


def subscribe(group: str) -> tuple[Any, str]:
    layer = get_channel_layer()

    async def join() -> str:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        return channel

    return layer, async_to_sync(join)()


def test_sync_sends_share_one_loop_and_arrive() -> None:
    layer, channel = subscribe("test.sender")
    realtime.send_now("test.sender", {"type": "test.one"})
    sender = realtime._sender
    assert sender is not None
    realtime.send_many(
        [("test.sender", {"type": "test.two"}), ("test.sender", {"type": "test.three"})]
    )
    assert realtime._sender is sender  # the same loop and layer, connections kept
    assert sender[3] is not layer  # its own layer instance, not the shared one
    first, *batch = receive_types(layer, channel, 3)
    # The batch goes out concurrently: in any order, after what was sent before.
    assert first == "test.one" and sorted(batch) == ["test.three", "test.two"]


def test_new_channel_layer_settings_get_a_new_sender_layer(settings) -> None:  # type: ignore[no-untyped-def]
    realtime.send_now("test.sender", {"type": "test.warm"})
    before = realtime._sender
    assert before is not None
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:12]}:"
    settings.CHANNEL_LAYERS = layers
    layer, channel = subscribe("test.sender")
    realtime.send_now("test.sender", {"type": "test.after"})
    after = realtime._sender
    assert after is not None
    assert after[1] is before[1]  # the same loop ...
    assert after[3] is not before[3] and after[3].prefix == layer.prefix  # ... a new layer
    assert receive_types(layer, channel, 1) == ["test.after"]
    async_to_sync(layer.flush)()
