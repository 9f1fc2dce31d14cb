"""Presence on the /ws/ socket: its frames, and the hooks that keep one
``AgentConnection`` row per open socket (registered with realtime.registry)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.db import database_sync_to_async

from presence.models import PresenceStatus
from presence.selectors import agent_states, presence_status
from presence.services import (
    PresenceError,
    connection_close,
    connection_open,
    connections_refresh,
    presence_set,
)
from realtime.registry import (
    Audience,
    Choice,
    FrameContext,
    Reply,
    expose_errors,
    frame,
    on_connect,
    on_disconnect,
    on_recheck,
)

expose_errors(PresenceError)


@on_connect
async def socket_opened(ctx: FrameContext) -> None:
    # Before the socket is accepted: an agent's console counts as connected
    # (presence) from its first frame on.
    await database_sync_to_async(connection_open)(user=ctx.user, channel_name=ctx.channel_name)


@on_disconnect
async def socket_closed(ctx: FrameContext) -> None:
    await database_sync_to_async(connection_close)(channel_name=ctx.channel_name)


@on_recheck
def sockets_rechecked(users: Mapping[str, Any]) -> None:
    connections_refresh(users=users)


@frame(
    "presence.set",
    audience=Audience.STAFF,
    fields={"status": Choice(choices=tuple(PresenceStatus.values))},
)
async def presence_set_frame(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    presence = await database_sync_to_async(presence_set)(user=ctx.user, status=data["status"])
    return {"type": "presence.state", "status": presence.status}


@database_sync_to_async
def _snapshot(ctx: FrameContext) -> dict[str, Any]:
    return {
        "type": "presence.snapshot",
        "me": {"user_id": ctx.user.pk, "status": presence_status(user=ctx.user)},
        "agents": agent_states(),
    }


@frame("presence.snapshot", audience=Audience.STAFF)
async def presence_snapshot_frame(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    # Asked for by the console on every (re)connect: events missed while the
    # socket was down are covered by reading the current state.
    return await _snapshot(ctx)
