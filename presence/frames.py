"""Presence frames of the /ws/ socket (registered through chat.frames)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from chat.frames import Audience, Choice, FrameContext, Reply, expose_errors, frame
from presence.models import PresenceStatus
from presence.selectors import agent_states, presence_status
from presence.services import PresenceError, presence_set

expose_errors(PresenceError)


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
