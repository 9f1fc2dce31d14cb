"""The socket's own frames (every app's ``frames.py`` is imported by
``realtime.registry.autodiscover``)."""

from __future__ import annotations

from typing import Any

from realtime.registry import FrameContext, Reply, frame, heartbeat_hooks


@frame("ping")
async def ping(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    # The browser's heartbeat: the reply proves to it that the socket still
    # carries traffic both ways. The server keeps its record of open sockets
    # fresh by itself (realtime.login_recheck). The apps' heartbeat hooks add
    # what the browser may have missed (chat: each chat's last seq).
    pong: dict[str, Any] = {"type": "pong"}
    for hook in heartbeat_hooks():
        pong.update(await hook(ctx))
    return pong
