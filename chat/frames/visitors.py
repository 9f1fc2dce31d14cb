"""Socket frames of visitor info and page views. Rules live in chat.visitors.

Browser -> server:
  chat.visitor {session_id}            -> chat.visitor {session_id, visitor, page_views}
                                          (staff who may read the chat)
  chat.page_view {session_id, path,    -> chat.page_view_recorded {session_id, created}
                  title?}                 (the chat's client, while it is open)
Server -> browser: chat.page_viewed {session_id, page_view} to staff only
(chat.broadcasts.page_viewed); the relay hook below drops it on any socket that
is not staff, whatever group it arrived through.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from chat.visitors import page_views
from realtime.registry import Audience, FrameContext, Int, Reply, Str, frame, on_event

SESSION_ID = Int(min_value=1)


@frame("chat.visitor", audience=Audience.STAFF, fields={"session_id": SESSION_ID})
async def chat_visitor(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    return await database_sync_to_async(page_views.visitor_info_for)(
        user=ctx.user, session_id=data["session_id"]
    )


@frame(
    "chat.page_view",
    audience=Audience.CLIENT,
    fields={
        "session_id": SESSION_ID,
        # Lengths and shape are the service's rules (page_path_invalid,
        # page_title_too_long); these bounds only cap what reaches it.
        "path": Str(max_length=4000, min_length=0, strip=False),
        "title": Str(max_length=4000, min_length=0, required=False, default=""),
    },
)
async def chat_page_view(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    result = await database_sync_to_async(page_views.page_view_record)(
        session_id=data["session_id"], client=ctx.user, path=data["path"], title=data["title"]
    )
    return {
        "type": "chat.page_view_recorded",
        "session_id": data["session_id"],
        "created": result.created,
    }


@on_event("chat.page_viewed")
async def on_page_viewed(ctx: FrameContext, event: dict[str, Any]) -> Reply:
    """Last line of defence: a page view never reaches a client's socket, even
    if a future bug put one in a group a client is in."""
    if not ctx.user.is_agent:
        return None
    return event
