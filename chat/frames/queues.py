"""Queues on the /ws/ socket: the queue groups of every staff socket
(chat.queues.socket_groups, registered with realtime), and the event that
tells a socket its user's queues changed (chat.queue_members)."""

from __future__ import annotations

from typing import Any

from chat import queues
from realtime.registry import FrameContext, Reply, on_event, on_groups

on_groups(queues.socket_groups)


@on_event("chat.queues_changed")
async def on_queues_changed(ctx: FrameContext, event: dict[str, Any]) -> Reply:
    """The user's queues changed: this socket hears their requests from now
    on (or no longer), and the console reloads its Chats panel."""
    if not ctx.user.is_agent:
        return None
    await ctx.regroup()
    return event
