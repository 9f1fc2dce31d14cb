"""The frames of a chat's life on the /ws/ socket.

Browser -> server: chat.snapshot, chat.request, chat.open, chat.history,
chat.send, chat.read, chat.typing, chat.join, chat.end, chat.leave, chat.push,
chat.accept, chat.decline, chat.enter, chat.block, and the client's
follow-up options (chat.keep_waiting, chat.leave_note, chat.create_ticket,
chat.callback) and the card's chat.close_followup. Server -> browser events: see chat.broadcasts.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from chat import follow_up, queues, receipts, selectors, services
from chat.agent_tools import blocks
from chat.broadcasts import chat_group
from chat.errors import ChatError
from chat.models import ChatKind, ChatSession, Outcome
from chat.payloads import block_payload, message_payload, session_payload
from chat.send_runner import message_send_runner
from chat.visitors.recording import Visit, visit_from_scope
from realtime.registry import (
    Audience,
    Bool,
    Choice,
    FrameContext,
    Int,
    Reply,
    Str,
    Uuid,
    expose_errors,
    frame,
    on_event,
)
from tickets.errors import TicketError

expose_errors(ChatError, TicketError)

SESSION_ID = Int(min_value=1)
SEQ = Int(min_value=0, required=False, default=0)


def _state(session: ChatSession, *, after_seq: int) -> dict[str, Any]:
    """The session and the messages after ``after_seq`` (at most one page)."""
    return {
        "type": "chat.state",
        "session": session_payload(session),
        **selectors.replay_page(session, after_seq=after_seq),
    }


@database_sync_to_async
def _open(user: Any, session_id: int, after_seq: int) -> dict[str, Any]:
    session = selectors.session_for(user, session_id)
    return _state(session, after_seq=after_seq)


@database_sync_to_async
def _follows_live(user: Any, session_id: int) -> bool:
    return selectors.follows_live(user, selectors.session_for(user, session_id))


async def _subscribe_and_state(ctx: FrameContext, session_id: int, after_seq: int = 0) -> Reply:
    # An agent out of a live chat (left, transferred away) reads it without
    # hearing it.
    if not await _follows_live(ctx.user, session_id):
        return await _open(ctx.user, session_id, after_seq)
    # Join the group before reading: a message committed in between arrives
    # twice (replay and event), which the browser drops by seq; the other
    # order could lose it.
    await ctx.join_group(chat_group(session_id))
    try:
        return await _open(ctx.user, session_id, after_seq)
    except Exception:
        await ctx.leave_group(chat_group(session_id))
        raise


@frame("chat.snapshot")
async def chat_snapshot(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    """What to show after (re)connecting: the session manager for staff (and
    the queues it lists, ``queue_ids``: null for every queue), the open chats
    and invitations for a client."""

    @database_sync_to_async
    def build() -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if ctx.user.is_agent:
            lists = selectors.session_manager(ctx.user)
            extra["queue_ids"] = queues.answered_queue_ids(ctx.user)
        else:
            lists = {
                "queue": [],
                "mine": selectors.open_sessions_of_client(ctx.user),
                "others": [],
                "abandoned": [],
                "callbacks": [],
            }
        follow_ups = [s.client_id for s in lists["abandoned"] + lists["callbacks"]]
        online = selectors.online_user_ids(follow_ups) if follow_ups else set()
        return {
            "type": "chat.snapshot",
            # Lets the browser correct its clock for waiting times.
            "now": timezone.now().isoformat(),
            **extra,
            **{
                name: [
                    session_payload(
                        s,
                        list(s.participants.all()),
                        client_online=(s.client_id in online)
                        if name in ("abandoned", "callbacks")
                        else None,
                    )
                    for s in sessions
                ]
                for name, sessions in lists.items()
            },
        }

    return await build()


@frame(
    "chat.request",
    audience=Audience.CLIENT,
    fields={
        "kind": Choice(choices=(ChatKind.POST_TICKET, ChatKind.PRE_TICKET)),
        "ticket_id": Int(min_value=1, required=False),
        "subject": Str(max_length=1000, min_length=0, required=False, default=""),
    },
)
async def chat_request(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    client_ip = getattr(ctx, "client_ip", None)

    @database_sync_to_async
    def request() -> ChatSession:
        return services.session_request(
            client=ctx.user,
            kind=data["kind"],
            ticket_id=data["ticket_id"],
            subject=data["subject"],
            client_ip=client_ip,
            visit=_visit(ctx, client_ip),
        )

    session = await request()
    return await _subscribe_and_state(ctx, session.pk)


def _visit(ctx: FrameContext, client_ip: str | None) -> Visit:
    # The browser's user agent and visitor cookies, from the socket's handshake.
    return visit_from_scope(getattr(ctx, "scope", None) or {}, client_ip=client_ip)


@frame("chat.open", fields={"session_id": SESSION_ID, "last_seq": SEQ})
async def chat_open(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    return await _subscribe_and_state(ctx, data["session_id"], data["last_seq"])


@frame(
    "chat.history",
    fields={
        "session_id": SESSION_ID,
        "after_seq": SEQ,
        "limit": Int(min_value=1, max_value=500, required=False, default=200),
    },
)
async def chat_history(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    @database_sync_to_async
    def build() -> dict[str, Any]:
        session = selectors.session_for(ctx.user, data["session_id"])
        return {
            "type": "chat.messages",
            "session_id": session.pk,
            **selectors.replay_page(session, after_seq=data["after_seq"], limit=data["limit"]),
        }

    return await build()


@frame(
    "chat.send",
    fields={
        "session_id": SESSION_ID,
        "client_id": Uuid(),
        # Length is the service's rule (it answers message_too_long); the frame
        # size limit bounds what reaches it.
        "body": Str(max_length=1_000_000, min_length=0, strip=False),
    },
)
async def chat_send(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    result = await message_send_runner()(
        session_id=data["session_id"],
        author=ctx.user,
        client_id=data["client_id"],
        body=data["body"],
        origin_channel=ctx.channel_name,
    )
    return {
        "type": "chat.ack",
        "session_id": data["session_id"],
        "client_id": data["client_id"],
        "created": result.created,
        "message": result.payload or message_payload(result.message),
    }


@frame("chat.read", fields={"session_id": SESSION_ID, "seq": Int(min_value=0)})
async def chat_read(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    seq = await database_sync_to_async(receipts.participant_mark_read)(
        session_id=data["session_id"], user=ctx.user, seq=data["seq"]
    )
    return {"type": "chat.read_ack", "session_id": data["session_id"], "seq": seq}


@frame("chat.typing", fields={"session_id": SESSION_ID})
async def chat_typing(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    """The sender is typing (the browser sends it at most every few seconds;
    the socket's rate limit bounds it too). Nothing is stored."""
    await database_sync_to_async(receipts.typing_notify)(
        session_id=data["session_id"], user=ctx.user
    )
    return None


@on_event("chat.typing")
async def on_typing(ctx: FrameContext, event: dict[str, Any]) -> Reply:
    # The typist's own sockets (this tab and its others) are not told.
    if event.get("user", {}).get("id") == ctx.user.pk:
        return None
    return event


@frame("chat.join", audience=Audience.STAFF, fields={"session_id": SESSION_ID})
async def chat_join(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    session = await database_sync_to_async(services.session_join)(
        session_id=data["session_id"], agent=ctx.user
    )
    return await _subscribe_and_state(ctx, session.pk)


@frame(
    "chat.end",
    # Clients too: after an hour without messages (the service checks).
    audience=Audience.ANY,
    fields={
        "session_id": SESSION_ID,
        "outcome": Choice(
            choices=(
                services.EndOutcome.ATTACH,
                services.EndOutcome.CREATE_TICKET,
                services.EndOutcome.CLOSE,
            ),
            required=False,
            default=services.EndOutcome.ATTACH,
        ),
        "subject": Str(max_length=1000, min_length=0, required=False, default=""),
        "reason": Str(max_length=2000, min_length=0, required=False, default=""),
    },
)
async def chat_end(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    session = await database_sync_to_async(services.session_end)(
        session_id=data["session_id"],
        agent=ctx.user,
        outcome=data["outcome"],
        subject=data["subject"],
        reason=data["reason"],
    )
    return await _open(ctx.user, session.pk, session.last_seq)


@frame("chat.leave", fields={"session_id": SESSION_ID})
async def chat_leave(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    @database_sync_to_async
    def leave() -> dict[str, Any]:
        session = services.session_leave(session_id=data["session_id"], user=ctx.user)
        return {"type": "chat.left", "session": session_payload(session)}

    reply = await leave()
    await ctx.leave_group(chat_group(data["session_id"]))
    return reply


@frame("chat.push", audience=Audience.STAFF, fields={"ticket_id": Int(min_value=1)})
async def chat_push(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    session = await database_sync_to_async(services.session_push)(
        ticket_id=data["ticket_id"], agent=ctx.user
    )
    return await _subscribe_and_state(ctx, session.pk)


@frame(
    "chat.block",
    audience=Audience.STAFF,
    fields={
        "session_id": SESSION_ID,
        # Required and length-checked by the service (reason_required,
        # reason_too_long); the frame size limit bounds what reaches it.
        "reason": Str(max_length=100_000, min_length=0),
        "block_ip": Bool(required=False, default=False),
        # Optional: the same one again returns the block made with it.
        "client_id": Uuid(required=False),
    },
)
async def chat_block(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    @database_sync_to_async
    def block() -> dict[str, Any]:
        created = blocks.client_block(
            session_id=data["session_id"],
            agent=ctx.user,
            reason=data["reason"],
            block_ip=data["block_ip"],
            client_id=data["client_id"],
        )
        return {
            "type": "chat.blocked",
            "session_id": data["session_id"],
            "block": block_payload(created),
        }

    return await block()


async def _answer_push(ctx: FrameContext, session_id: int, *, accept: bool) -> Reply:
    @database_sync_to_async
    def answer() -> ChatSession:
        visit = _visit(ctx, getattr(ctx, "client_ip", None)) if accept else None
        return services.push_answer(
            session_id=session_id, client=ctx.user, accept=accept, visit=visit
        )

    session = await answer()
    if accept:
        return await _subscribe_and_state(ctx, session.pk)
    return {"type": "chat.declined", "session_id": session.pk}


@frame("chat.accept", audience=Audience.CLIENT, fields={"session_id": SESSION_ID})
async def chat_accept(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    return await _answer_push(ctx, data["session_id"], accept=True)


@frame("chat.decline", audience=Audience.CLIENT, fields={"session_id": SESSION_ID})
async def chat_decline(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    return await _answer_push(ctx, data["session_id"], accept=False)


@frame("chat.enter", audience=Audience.CLIENT, fields={"session_id": SESSION_ID})
async def chat_enter(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    """Join chat on a chat an agent started for this client (Message customer
    by email), as the portal's home lists it."""
    session = await database_sync_to_async(services.session_enter)(
        session_id=data["session_id"], client=ctx.user, client_ip=getattr(ctx, "client_ip", None)
    )
    return await _subscribe_and_state(ctx, session.pk)


# --- Events that change what this socket listens to ----------------------------------


@on_event("chat.subscribe")
async def on_subscribe(ctx: FrameContext, event: dict[str, Any]) -> Reply:
    """A service says this user now belongs in a chat (joined, accepted...).
    Check access ourselves, then join; the browser syncs with chat.open."""
    session_id = int(event["session_id"])

    @database_sync_to_async
    def allowed() -> bool:
        try:
            session = selectors.session_for(ctx.user, session_id)
        except ChatError:
            return False
        return selectors.follows_live(ctx.user, session)

    if not await allowed():
        return None
    await ctx.join_group(chat_group(session_id))
    return {"type": "chat.subscribed", "session_id": session_id}


@on_event("chat.unsubscribe")
async def on_unsubscribe(ctx: FrameContext, event: dict[str, Any]) -> Reply:
    session_id = int(event["session_id"])
    await ctx.leave_group(chat_group(session_id))
    return {"type": "chat.unsubscribed", "session_id": session_id}


@on_event("chat.swept")
async def on_swept(ctx: FrameContext, event: dict[str, Any]) -> Reply:
    """A timer sweep's one event per chat (chat.broadcasts.sessions_swept): the
    browser gets the two frames it already knows, the system line first, then
    the session (its warned/no-answer/inactive/abandoned state)."""
    await ctx.send_frame({"type": "chat.message", "message": event["message"]})
    return {"type": "chat.session", "session": event["session"]}


# --- Follow-up: the client's options, and closing the card -----------------------------


async def _follow_up(ctx: FrameContext, action: Any, **kwargs: Any) -> Reply:
    session = await database_sync_to_async(action)(**kwargs)
    return await _open(ctx.user, session.pk, session.last_seq)


@frame("chat.keep_waiting", audience=Audience.CLIENT, fields={"session_id": SESSION_ID})
async def chat_keep_waiting(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    return await _follow_up(
        ctx, follow_up.request_keep_waiting, session_id=data["session_id"], client=ctx.user
    )


@frame(
    "chat.leave_note",
    audience=Audience.CLIENT,
    fields={"session_id": SESSION_ID, "body": Str(max_length=1_000_000, min_length=0)},
)
async def chat_leave_note(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    return await _follow_up(
        ctx,
        follow_up.request_leave_note,
        session_id=data["session_id"],
        client=ctx.user,
        body=data["body"],
    )


@frame(
    "chat.create_ticket",
    audience=Audience.CLIENT,
    fields={
        "session_id": SESSION_ID,
        "body": Str(max_length=1_000_000, min_length=0),
        "subject": Str(max_length=200, min_length=0, required=False, default=""),
    },
)
async def chat_create_ticket(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    return await _follow_up(
        ctx,
        follow_up.request_create_ticket,
        session_id=data["session_id"],
        client=ctx.user,
        body=data["body"],
        subject=data["subject"],
    )


@frame(
    "chat.callback",
    audience=Audience.CLIENT,
    fields={
        "session_id": SESSION_ID,
        "phone": Str(max_length=40, min_length=0),
        "message": Str(max_length=1_000_000, min_length=0, required=False, default=""),
    },
)
async def chat_callback(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    return await _follow_up(
        ctx,
        follow_up.request_callback,
        session_id=data["session_id"],
        client=ctx.user,
        phone=data["phone"],
        message=data["message"],
    )


@frame(
    "chat.close_followup",
    audience=Audience.STAFF,
    fields={
        "session_id": SESSION_ID,
        "outcome": Choice(choices=tuple(Outcome.values)),
        "note": Str(max_length=1_000_000, min_length=0, required=False, default=""),
    },
)
async def chat_close_followup(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    # Not _follow_up: its reply reads through selectors.session_for, which
    # refuses an agent who never took part in the chat (the usual case for a
    # follow-up card). Any member of the card's queue may close it (the
    # service checks), so answer directly.
    @database_sync_to_async
    def close() -> dict[str, Any]:
        closed = follow_up.followup_close(
            session_id=data["session_id"],
            agent=ctx.user,
            outcome=data["outcome"],
            note=data["note"],
        )
        session = selectors.session_by_id(closed.pk)
        return _state(session, after_seq=session.last_seq)

    return await close()
