"""The one way a domain event reaches browsers: ``broadcast`` after commit.

Services call :func:`broadcast` inside their ``transaction.atomic`` block; the
event is handed to the channel layer only once the transaction commits, so a
browser never hears about a row that was rolled back. Every socket consumer
relays an event it receives as one JSON frame whose ``type`` is the event type
(``presence.changed``, ``chat.message``, ``queue.updated``...), so the event
*is* the frame: keep it JSON-ready and free of anything the group's members
may not see. Who is in which group is decided server side (see the group name
helpers below), never by the browser.

The channel layer is at-most-once: a lost event is tolerable because browsers
re-read state on (re)connect (snapshots, replay by ``seq``) and the heartbeat's
reply tells them the last ``seq`` of their chats (chat/frames/heartbeat.py).
In daphne a send that fails because Redis is unreachable is tried again once
it is back (the outbox, below), so that a lost event stays the exception.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import BaseChannelLayer, channel_layers, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from realtime import outage
from realtime.layer import SwitchboardChannelLayer

logger = logging.getLogger(__name__)

# An event may name one socket of its group that is not to get it (the one that
# sent a chat message has it in its ack). The Redis layer leaves that socket
# out of the send; with any other layer the key travels along and the consumer
# drops its copy (realtime.consumer).
EXCEPT_CHANNEL_KEY = "__except_channel__"


def event(event_type: str, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build a channel-layer event that is safe to relay as a frame.

    The layer serialises with msgpack, which knows neither datetimes nor UUIDs;
    a JSON round trip turns them into the strings the browser expects anyway.
    """
    body = json.loads(json.dumps(dict(payload or {}), cls=DjangoJSONEncoder))
    body["type"] = event_type
    return body


# --- The outbox of a running event loop --------------------------------------------
# In daphne every ORM call runs in one worker thread (database_sync_to_async is
# thread-sensitive), and on_commit broadcasts run there too. async_to_sync
# would make that thread wait until the busy event loop had done the
# group_send: most of the thread's time under load (docs/performance.md,
# "Outbox to the event loop"). Instead the event is handed to the loop and the
# thread goes on.
# On the loop, each group has a FIFO of its own, so events to one group leave
# in the order they were handed over (commit order, when the commits ran in
# the one database thread; on PostgreSQL message_send runs in a thread pool,
# so two messages of one chat may swap places, which browsers repair by seq)
# while different groups (chats) do not wait for each other's Redis round
# trips. There is no order between groups either. The channel layer is taken
# when the event is handed over, not when it leaves: an event belongs to the
# settings it was committed under (tests swap the layer's prefix between tests
# that share one event loop).
_Batch = list[tuple[str, dict[str, Any]]]

# A send that fails because Redis is unreachable (realtime.outage) is tried
# again, after RETRY_FIRST_DELAY and then twice as long each time up to
# RETRY_MAX_DELAY, until it goes through or RETRY_SECONDS have passed; the
# group's later events wait behind it, so they still leave in order. After a
# Redis restart a daphne's first sends can fail on connections that did not
# survive it ("Connection closed by server"), and in a quiet chat the lost
# event may be the last message, which no later message reveals as a gap.
# Whether a failed try stored the event is unknown (the connection may have
# dropped after Redis ran the send), so every try carries the event's id and
# the layer stores a second one nowhere (realtime.layer, send_id): no socket
# gets it twice. Any other failure is logged and the event dropped.
RETRY_SECONDS = 30.0
RETRY_FIRST_DELAY = 0.05
RETRY_MAX_DELAY = 2.0


# Events one event loop may hold while its sends cannot keep up (Redis hung or
# gone: each send then waits for its timeout). Beyond this, new events are
# dropped instead of piling up in memory: nothing is lost by it, every message
# is in the database, and a browser re-reads what it missed when it reconnects
# (its socket fails with the lost Redis) or sees a gap in the seqs.
MAX_PENDING_EVENTS = 20_000


class _Outbox:
    """The events one event loop still has to send, per group."""

    def __init__(self) -> None:
        self.pending: dict[tuple[BaseChannelLayer, str], collections.deque[dict[str, Any]]] = {}
        self.count = 0  # events in all the queues
        self.dropped = 0
        self.abandoned = 0  # given up after RETRY_SECONDS of failed tries
        # Bounds the Redis connections the sends take at once.
        self.gate = asyncio.Semaphore(SEND_MANY_CONCURRENCY)
        # Kept referenced so running senders are not garbage-collected.
        self.tasks: set[asyncio.Task[None]] = set()

    def post(self, layer: BaseChannelLayer, batch: _Batch) -> None:
        """On the loop: queue each event behind the earlier ones of its group."""
        for group, message in batch:
            if self.count >= MAX_PENDING_EVENTS:
                self._drop(group, message)
                continue
            self.count += 1
            queue = self.pending.get((layer, group))
            if queue is not None:
                queue.append(message)
                continue
            self.pending[layer, group] = collections.deque([message])
            task = asyncio.get_running_loop().create_task(self._send(layer, group))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _send(self, layer: BaseChannelLayer, group: str) -> None:
        """Send the group's events one after the other until none is left."""
        queue = self.pending[layer, group]
        try:
            while queue:
                message = queue.popleft()
                self.count -= 1
                await self._deliver(layer, group, message)
        finally:
            self.count -= len(queue)  # left behind only when the loop shuts down
            del self.pending[layer, group]

    async def _deliver(self, layer: BaseChannelLayer, group: str, message: dict[str, Any]) -> None:
        """Send one event, trying again while Redis is unreachable (see above)."""
        send_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + RETRY_SECONDS
        delay = RETRY_FIRST_DELAY
        while True:
            try:
                async with self.gate:
                    await _layer_group_send(layer, group, message, send_id=send_id)
                return
            except Exception as error:
                if not outage.is_connection_error(error):
                    logger.exception("broadcast of %s to %s failed", message.get("type"), group)
                    return
                # Logged once per outage by the layer (realtime.outage).
            if loop.time() + delay > give_up_at:
                self._abandon(group, message)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY)

    def _abandon(self, group: str, message: dict[str, Any]) -> None:
        """Nothing is lost for good: the message is in the database, and a
        browser replays it on reconnect or fetches it when its heartbeat shows
        the chat's newer seq."""
        self.abandoned += 1
        if self.abandoned % 1000 == 1:  # the first, then every thousandth
            logger.warning(
                "gave up on broadcast of %s to %s: Redis unreachable for %d s (%d given up so far)",
                message.get("type"),
                group,
                RETRY_SECONDS,
                self.abandoned,
            )

    def _drop(self, group: str, message: dict[str, Any]) -> None:
        self.dropped += 1
        if self.dropped % 1000 == 1:  # the first, then every thousandth
            logger.warning(
                "%d broadcasts waiting to be sent: dropped %s to %s (%d dropped so far)",
                self.count,
                message.get("type"),
                group,
                self.dropped,
            )


_outboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Outbox] = (
    weakref.WeakKeyDictionary()
)


def _caller_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop that called this thread through SyncToAsync
    (a consumer's ``database_sync_to_async``, an async view), or None (a test,
    a Celery task, a management command: plain sync code)."""
    try:
        asyncio.get_running_loop()
        return None  # sync code called straight from a coroutine: not ours to hand off
    except RuntimeError:
        pass
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    # After a fork the copied thread-local names a loop nobody runs here.
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop


def _post(loop: asyncio.AbstractEventLoop, layer: BaseChannelLayer, batch: _Batch) -> None:
    """On the loop: hand ``batch`` to the loop's outbox."""
    outbox = _outboxes.get(loop)
    if outbox is None:
        outbox = _outboxes[loop] = _Outbox()
    outbox.post(layer, batch)


async def _group_send(
    group: str, message: dict[str, Any], layer: BaseChannelLayer | None = None
) -> None:
    """One send from sync code (no outbox, no second try): a failure is
    logged, unless it was Redis, whose outage the layer logs once."""
    layer = layer or get_channel_layer()
    if layer is None:  # pragma: no cover - settings always configure a layer
        return
    try:
        await _layer_group_send(layer, group, message)
    except Exception as error:
        if not outage.is_connection_error(error):
            logger.exception("broadcast of %s to %s failed", message.get("type"), group)


def _without_except(message: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The event as sent, and the socket it names to leave out (if any)."""
    except_channel = message.get(EXCEPT_CHANNEL_KEY)
    if except_channel is None:
        return message, None
    return {key: value for key, value in message.items() if key != EXCEPT_CHANNEL_KEY}, (
        except_channel
    )


async def _layer_group_send(
    layer: BaseChannelLayer, group: str, message: dict[str, Any], *, send_id: str | None = None
) -> None:
    if isinstance(layer, SwitchboardChannelLayer):
        sent, except_channel = _without_except(message)
        await layer.group_send(group, sent, except_channel=except_channel, send_id=send_id)
    else:
        await layer.group_send(group, message)  # with the key: the consumer drops its copy


def _hand_off(batch: _Batch) -> bool:
    """Give ``batch`` to the calling event loop's outbox; False if there is none."""
    loop = _caller_loop()
    if loop is None:
        return False
    layer = get_channel_layer()
    if layer is None:  # pragma: no cover - settings always configure a layer
        return True
    try:
        loop.call_soon_threadsafe(_post, loop, layer, batch)
    except RuntimeError:  # the loop closed in between
        return False
    return True


# --- The sender loop of plain sync code ------------------------------------------------
# Sync code with no event loop behind it (a Celery task such as the timer
# sweep, a management command, a test) used to send through async_to_sync: a
# new event loop per call, and since channels_redis keeps its Redis pools per
# loop, new connections each time, up to SEND_MANY_CONCURRENCY of them for a
# batch. Connecting was a third of a timer sweep's time (docs/performance.md,
# "Sender loop for sync code"). Instead each process keeps one loop in a daemon
# thread, with a channel layer instance of its own (so nobody else's flush()
# or close_pools() touches its connections from another loop), and the
# connections stay open between sends.
SENDER_TIMEOUT_SECONDS = 30
_sender_lock = threading.Lock()
# (pid, the loop, the shared layer it was made for, its own layer)
_sender: tuple[int, asyncio.AbstractEventLoop, BaseChannelLayer, BaseChannelLayer] | None = None


def _own_layer(shared: BaseChannelLayer) -> BaseChannelLayer | None:
    """A second Redis layer configured as ``shared``, or None when ``shared``
    is anything else (a test may swap in another layer: use that one)."""
    from channels import DEFAULT_CHANNEL_LAYER
    from channels_redis.core import RedisChannelLayer

    if not isinstance(shared, RedisChannelLayer):
        return None
    own = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    if type(own) is not type(shared) or own.prefix != shared.prefix:
        return None  # not what get_channel_layer() gives: a test swapped it
    return own if own.hosts == shared.hosts else None


def _sender_for(
    shared: BaseChannelLayer,
) -> tuple[asyncio.AbstractEventLoop, BaseChannelLayer] | None:
    """This process's sender loop and its layer for ``shared``; a new loop
    after a fork (the thread did not come along), a new layer when the
    settings changed (tests)."""
    global _sender
    with _sender_lock:
        current = _sender
        if current is not None and current[0] == os.getpid() and current[2] is shared:
            return current[1], current[3]
        own = _own_layer(shared)
        if own is None:
            return None
        if current is not None and current[0] == os.getpid() and not current[1].is_closed():
            loop = current[1]
            # The layer of the old settings: close its connections, on its loop.
            asyncio.run_coroutine_threadsafe(current[3].close_pools(), loop)
        else:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-sender", daemon=True).start()
        _sender = (os.getpid(), loop, shared, own)
        return loop, own


def _send_from_sync(messages: _Batch) -> bool:
    """Send ``messages`` on the sender loop and wait for them; False if it
    does not apply (the shared layer is not a Redis layer): use async_to_sync."""
    shared = get_channel_layer()
    sender = _sender_for(shared) if shared is not None else None
    if sender is None:
        return False
    loop, own = sender
    if len(messages) == 1:
        coro = _group_send(*messages[0], layer=own)
    else:
        coro = _send_batch(messages, layer=own)
    asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=SENDER_TIMEOUT_SECONDS)
    return True


def send_now(group: str, message: dict[str, Any]) -> None:
    """Send now: from sync code in a worker thread of a running event loop
    (daphne) the event is queued on that loop and this returns at once;
    otherwise (a test, a Celery task) it is sent before this returns.

    Errors are logged, not raised: the database is the source of truth and a
    broadcast that could not be delivered must not undo a committed change.
    """
    if _hand_off([(group, message)]):
        return
    try:
        if not _send_from_sync([(group, message)]):
            async_to_sync(_group_send)(group, message)
    except Exception as error:
        if not outage.is_connection_error(error):
            logger.exception("broadcast of %s to %s failed", message.get("type"), group)


def broadcast(group: str, event_type: str, payload: Mapping[str, Any] | None = None) -> None:
    """Schedule ``{"type": event_type, **payload}`` to ``group`` after commit.

    Called outside a transaction it is sent at once (Django runs on_commit
    callbacks immediately in autocommit mode).
    """
    message = event(event_type, payload)
    transaction.on_commit(lambda: send_now(group, message))


# channels_redis checks connections out of redis-py's asyncio pool, which
# allows 100 and raises MaxConnectionsError beyond that instead of waiting: a
# sweep's thousands of events go out at most this many at a time.
SEND_MANY_CONCURRENCY = 50


async def _send_batch(messages: _Batch, layer: BaseChannelLayer | None = None) -> None:
    layer = layer or get_channel_layer()
    if layer is None:  # pragma: no cover - settings always configure a layer
        return
    if isinstance(layer, SwitchboardChannelLayer):
        # Pipelined, in order: a few round trips for a sweep's hundreds.
        await layer.group_send_many(
            [(group, *_without_except(message)) for group, message in messages]
        )
        return
    gate = asyncio.Semaphore(SEND_MANY_CONCURRENCY)

    async def send(group: str, message: dict[str, Any]) -> None:
        async with gate:
            await _layer_group_send(layer, group, message)

    results = await asyncio.gather(
        *(send(group, message) for group, message in messages),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, Exception) and not outage.is_connection_error(result):
            logger.error("broadcast failed: %r", result)


def send_many(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send many ``(group, event)`` pairs at once (a sweep that changed a
    thousand chats): pipelined on one event loop, not one round trip each.
    Through the caller's outbox when there is one (see :func:`send_now`), so
    they do not overtake single events queued before them."""
    if not messages:  # pragma: no cover
        return
    if _hand_off(list(messages)):
        return
    try:
        if not _send_from_sync(messages):
            async_to_sync(_send_batch)(messages)
    except Exception as error:
        if not outage.is_connection_error(error):
            logger.exception("batch broadcast of %s events failed", len(messages))
