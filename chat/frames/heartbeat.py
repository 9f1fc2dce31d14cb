"""What chat adds to every heartbeat of a socket (the ``pong``): the last
``seq`` of each chat the socket hears live.

The channel layer is at-most-once. A browser finds a lost message by the gap
it leaves before the next one, but the last message of a quiet chat leaves
none: it would stay lost until someone wrote again or the socket reconnected.
With each chat's last seq in the pong, the browser fetches what it misses
with chat.history within one heartbeat (static/js/chat/conversation.js).
The socket is in a chat's group only once its access was checked (chat.open,
chat.watch, chat.subscribe), so the seqs tell it nothing it may not read.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from chat import selectors
from chat.broadcasts import session_of_chat_group
from realtime.registry import FrameContext, on_heartbeat


@on_heartbeat
async def chat_last_seqs(ctx: FrameContext) -> dict[str, Any]:
    """``{"chat_seqs": {"<session id>": last_seq}}`` (JSON keys are strings);
    a socket in no chat asks nothing of the database."""
    session_ids = [
        session_id
        for group in ctx.joined_groups
        if (session_id := session_of_chat_group(group)) is not None
    ]
    if not session_ids:
        return {"chat_seqs": {}}
    seqs = await database_sync_to_async(selectors.last_seqs)(session_ids)
    return {"chat_seqs": {str(session_id): seq for session_id, seq in seqs.items()}}
