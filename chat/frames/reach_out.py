"""Socket frames of Message customer (chat.reach_out): the agent reaches a
client who has left, from a closed chat or a ticket.

Browser -> server (staff only; the services check the rest):
  chat.reach_options {session_id | ticket_id}  -> chat.reach_options {client, options, templates}
  chat.reach_out {session_id | ticket_id, channel, body | template_id + values, client_id}
                                                -> chat.state {session, messages, has_more}
The agent's other sockets get the new chat as chat.session (and follow it);
every session manager as queue.updated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.db import database_sync_to_async

from chat import selectors
from chat.frames.whatsapp_templates import VALUE
from chat.models import ReachChannel
from chat.payloads import session_payload
from chat.reach_out import services
from realtime.registry import (
    Audience,
    Choice,
    FrameContext,
    Int,
    ListOf,
    Reply,
    Str,
    Uuid,
    frame,
)

OPTIONAL_VALUES = ListOf(item=VALUE, max_items=50, required=False, default=[])
SOURCE = {
    "session_id": Int(min_value=1, required=False),
    "ticket_id": Int(min_value=1, required=False),
}


@frame("chat.reach_options", audience=Audience.STAFF, fields=SOURCE)
async def chat_reach_options(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    options = await database_sync_to_async(services.reach_options)(
        agent=ctx.user, session_id=data["session_id"], ticket_id=data["ticket_id"]
    )
    return {"type": "chat.reach_options", **options}


@frame(
    "chat.reach_out",
    audience=Audience.STAFF,
    fields={
        **SOURCE,
        "channel": Choice(choices=tuple(ReachChannel.values)),
        # Length is the service's rule; the frame size limit bounds it.
        "body": Str(max_length=1_000_000, min_length=0, required=False, default=""),
        "template_id": Int(min_value=1, required=False),
        "values": OPTIONAL_VALUES,
        "client_id": Uuid(),
    },
)
async def chat_reach_out(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    site_url = _site_of(getattr(ctx, "scope", None) or {})

    @database_sync_to_async
    def start() -> dict[str, Any]:
        session = services.reach_out(
            agent=ctx.user,
            session_id=data["session_id"],
            ticket_id=data["ticket_id"],
            channel=data["channel"],
            body=data["body"],
            template_id=data["template_id"],
            values=data["values"],
            client_id=data["client_id"],
            site_url=site_url,
        )
        session = selectors.session_by_id(session.pk)
        return {
            "type": "chat.state",
            "session": session_payload(session),
            **selectors.replay_page(session, after_seq=0),
        }

    return await start()


def _site_of(scope: Mapping[str, Any]) -> str:
    """The origin of the agent's page (the handshake's, which realtime.origin
    checked): the site the client's email links back to when
    SWITCHBOARD_PUBLIC_URL is not set."""
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return str(value.decode("latin-1"))
    return ""
