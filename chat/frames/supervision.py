"""Socket frames of the supervisor console. Rules live in chat.supervision.

Browser -> server:
  supervisor.snapshot {}                       -> supervisor.snapshot (supervisors)
  chat.watch {session_id, last_seq?}           -> chat.watching {session, messages,
                                                  has_more, comments} (supervisors)
  chat.unwatch {session_id}                    -> chat.unwatched (supervisors)
  chat.comment {session_id, body, client_id?}  -> chat.commented {comment} (staff;
                                                  the service checks who)
  chat.comments {session_id}                   -> chat.comments {comments} (staff)
Server -> browser: chat.comment {session_id, title, comment} to staff only
(chat.broadcasts.comment_posted); the relay hook below drops it on any socket
that is not staff, whatever group it arrived through.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from chat.broadcasts import chat_group, chat_staff_group
from chat.payloads import comment_payload
from chat.supervision import comments, selectors, watch
from realtime.registry import Audience, FrameContext, Int, Reply, Str, Uuid, frame, on_event

SESSION_ID = Int(min_value=1)


@frame("supervisor.snapshot", audience=Audience.SUPERVISOR)
async def supervisor_snapshot(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    # Asked for on every (re)connect and after queue/presence events: the
    # state is read again rather than patched from events that may be missed.
    return await database_sync_to_async(selectors.console_snapshot)()


@frame(
    "chat.watch",
    audience=Audience.SUPERVISOR,
    fields={"session_id": SESSION_ID, "last_seq": Int(min_value=0, required=False, default=0)},
)
async def chat_watch(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    session_id = data["session_id"]
    # Join before reading, as chat.open does: a message committed in between
    # arrives twice (the browser drops it by seq) instead of never.
    await ctx.join_group(chat_group(session_id))
    await ctx.join_group(chat_staff_group(session_id))
    try:
        return await database_sync_to_async(watch.watch_state)(
            session_id=session_id, supervisor=ctx.user, after_seq=data["last_seq"]
        )
    except Exception:
        await _unwatch(ctx, session_id)
        raise


async def _unwatch(ctx: FrameContext, session_id: int) -> None:
    await ctx.leave_group(chat_staff_group(session_id))
    # A supervisor who is also in the room keeps the chat's events (its
    # docked window needs them).
    keep = await database_sync_to_async(watch.watch_keeps_chat_group)(
        session_id=session_id, user=ctx.user
    )
    if not keep:
        await ctx.leave_group(chat_group(session_id))


@frame("chat.unwatch", audience=Audience.SUPERVISOR, fields={"session_id": SESSION_ID})
async def chat_unwatch(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    await _unwatch(ctx, data["session_id"])
    return {"type": "chat.unwatched", "session_id": data["session_id"]}


@frame(
    "chat.comment",
    audience=Audience.STAFF,
    fields={
        "session_id": SESSION_ID,
        # Length is the service's rule; the frame size limit bounds what reaches it.
        "body": Str(max_length=1_000_000, min_length=0),
        # Optional: the same one again returns the comment posted with it.
        "client_id": Uuid(required=False),
    },
)
async def chat_comment(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    @database_sync_to_async
    def post() -> dict[str, Any]:
        comment = comments.comment_add(
            session_id=data["session_id"],
            author=ctx.user,
            body=data["body"],
            client_id=data["client_id"],
        )
        return {"type": "chat.commented", "comment": comment_payload(comment)}

    return await post()


@frame("chat.comments", audience=Audience.STAFF, fields={"session_id": SESSION_ID})
async def chat_comments(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    @database_sync_to_async
    def build() -> dict[str, Any]:
        found = comments.comments_for(session_id=data["session_id"], user=ctx.user)
        return {
            "type": "chat.comments",
            "session_id": data["session_id"],
            "comments": [comment_payload(c) for c in found],
        }

    return await build()


@on_event("chat.comment")
async def on_comment(ctx: FrameContext, event: dict[str, Any]) -> Reply:
    """Last line of defence: a comment never reaches a client's socket, even
    if a future bug put one in a group a client is in."""
    if not ctx.user.is_agent:
        return None
    return event
