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
re-read state on (re)connect (snapshots, replay by ``seq``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

# Every staff socket (agents, supervisors, administrators) is in this group.
STAFF_GROUP = "staff"


def user_group(user_id: int) -> str:
    """Every socket of one user (all tabs, all daphne processes)."""
    return f"user.{user_id}"


def event(event_type: str, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build a channel-layer event that is safe to relay as a frame.

    The layer serialises with msgpack, which knows neither datetimes nor UUIDs;
    a JSON round trip turns them into the strings the browser expects anyway.
    """
    body = json.loads(json.dumps(dict(payload or {}), cls=DjangoJSONEncoder))
    body["type"] = event_type
    return body


def send_now(group: str, message: dict[str, Any]) -> None:
    """Send immediately (sync code outside a transaction, e.g. a test or task).

    Errors are logged, not raised: the database is the source of truth and a
    broadcast that could not be delivered must not undo a committed change.
    """
    layer = get_channel_layer()
    if layer is None:  # pragma: no cover - settings always configure a layer
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
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


def send_many(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send many ``(group, event)`` pairs at once (a sweep that changed a
    thousand chats): concurrently on one event loop, not one round trip each."""
    layer = get_channel_layer()
    if layer is None or not messages:  # pragma: no cover
        return

    async def send_all() -> None:
        import asyncio

        gate = asyncio.Semaphore(SEND_MANY_CONCURRENCY)

        async def send(group: str, message: dict[str, Any]) -> None:
            async with gate:
                await layer.group_send(group, message)

        results = await asyncio.gather(
            *(send(group, message) for group, message in messages),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Exception):
                logger.error("broadcast failed: %r", result)

    try:
        async_to_sync(send_all)()
    except Exception:
        logger.exception("batch broadcast of %s events failed", len(messages))
