"""Socket frames of WhatsApp templates (chat.whatsapp_templates): what an
agent sends to a WhatsApp client once the 24-hour window has closed.

Browser -> server (staff only; the service checks the chat):
  chat.whatsapp_templates {}                 -> chat.whatsapp_templates {templates}
  chat.send_template {session_id, template_id, values, client_id}
                                             -> chat.ack {session_id, client_id, created, message}
The message also reaches the chat's room as chat.message; its delivery tick
moves as for any message sent to a phone (chat.delivery).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from chat import whatsapp_templates
from chat.payloads import message_payload
from realtime.registry import Audience, FrameContext, Int, ListOf, Reply, Str, Uuid, frame

# A value's length is the service's rule (it says which placeholder); the
# frame only bounds what reaches it.
VALUE = Str(max_length=10 * whatsapp_templates.VALUE_MAX, min_length=0, strip=False)
VALUES = ListOf(item=VALUE, max_items=50)


@frame("chat.whatsapp_templates", audience=Audience.STAFF)
async def chat_whatsapp_templates(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    templates = await database_sync_to_async(whatsapp_templates.approved_templates)()
    return {"type": "chat.whatsapp_templates", "templates": templates}


@frame(
    "chat.send_template",
    audience=Audience.STAFF,
    fields={
        "session_id": Int(min_value=1),
        "template_id": Int(min_value=1),
        "values": VALUES,
        "client_id": Uuid(),
    },
)
async def chat_send_template(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    @database_sync_to_async
    def send() -> dict[str, Any]:
        result = whatsapp_templates.template_send(
            session_id=data["session_id"],
            agent=ctx.user,
            template_id=data["template_id"],
            values=data["values"],
            client_id=data["client_id"],
        )
        return {
            "type": "chat.ack",
            "session_id": data["session_id"],
            "client_id": data["client_id"],
            "created": result.created,
            "message": message_payload(result.message),
        }

    return await send()
