"""Fixtures for consumer tests of /ws/ (WebsocketCommunicator, no server)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from accounts.models import User

# What a browser sends on a page of the test site (http://testserver).
HOST = (b"host", b"testserver")
ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
async def private_channel_layer(settings: Any) -> AsyncIterator[None]:
    """A channel-layer prefix of our own: several suites share one Redis, and
    a "staff" group event of another run must not reach our sockets."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:12]}:"
    settings.CHANNEL_LAYERS = layers
    yield
    # Deletes only keys under our prefix, then closes this loop's pools.
    await get_channel_layer().flush()
    # The consumers' ORM calls ran in asgiref's shared worker thread; its
    # connections (kept by CONN_MAX_AGE on PostgreSQL) would otherwise stop the
    # test database from being dropped at the end of the session.
    await sync_to_async(connections.close_all)()


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


Connect = Callable[..., Awaitable[WebsocketCommunicator]]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """``await connect(user)`` -> a connected communicator whose hello frame
    was already read. Every communicator is disconnected at the end."""
    from config.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def _connect(
        user: User | None = None,
        *,
        origin: tuple[bytes, bytes] | None = ORIGIN,
        host: tuple[bytes, bytes] | None = HOST,
        read_hello: bool = True,
        cookie: bytes | None = None,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> WebsocketCommunicator:
        headers = [header for header in (host, origin) if header] + (extra_headers or [])
        if cookie is None and user is not None:
            cookie = await _cookie(user)
        if cookie:
            headers.append((b"cookie", cookie))
        communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        opened.append(communicator)
        connected, _ = await communicator.connect(timeout=5)
        communicator.accepted = connected  # type: ignore[attr-defined]
        if connected and read_hello and user is not None:
            hello = await communicator.receive_json_from(timeout=5)
            assert hello["type"] == "hello", hello
        return communicator

    yield _connect
    for communicator in opened:
        if communicator.accepted:  # type: ignore[attr-defined]
            await communicator.disconnect()


async def _cookie(user: User) -> bytes:
    return await sync_to_async(session_cookie)(user)


async def receive_type(
    communicator: WebsocketCommunicator, frame_type: str, *, timeout: float = 5
) -> dict[str, Any]:
    """Read frames until one of ``frame_type`` arrives (others are skipped)."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == frame_type:
            return frame


async def send(communicator: WebsocketCommunicator, frame: Any) -> None:
    await communicator.send_to(text_data=json.dumps(frame))
