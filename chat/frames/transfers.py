"""Socket frames of Transfer and Assign (see chat.agent_tools.transfers).

chat.transfer_targets: who a chat may go to right now (the dialog's pick list,
refreshable). chat.transfer: move it to an agent or a queue with a reason.
Both are staff frames; the service decides who may move which chat.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from chat.agent_tools import transfers
from chat.payloads import session_payload
from realtime.registry import Audience, FrameContext, Int, Reply, Str, frame

SESSION_ID = Int(min_value=1)


@frame("chat.transfer_targets", audience=Audience.STAFF, fields={"session_id": SESSION_ID})
async def chat_transfer_targets(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    targets = await database_sync_to_async(transfers.transfer_targets)(
        session_id=data["session_id"], user=ctx.user
    )
    return {"type": "chat.transfer_targets", **targets}


@frame(
    "chat.transfer",
    audience=Audience.STAFF,
    fields={
        "session_id": SESSION_ID,
        "agent_id": Int(min_value=1, required=False),
        "queue_id": Int(min_value=1, required=False),
        "reason": Str(max_length=transfers.REASON_MAX),
    },
)
async def chat_transfer(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    @database_sync_to_async
    def transfer() -> dict[str, Any]:
        session = transfers.session_transfer(
            session_id=data["session_id"],
            by=ctx.user,
            reason=data["reason"],
            to_agent_id=data.get("agent_id"),
            to_queue_id=data.get("queue_id"),
        )
        return {"type": "chat.transfer_done", "session": session_payload(session)}

    return await transfer()
