"""Socket frames of the agent's chat-window tools: invite another agent, the
greeting/farewell templates, Copy chat log and the time entry.

Browser -> server (staff only; the services check the chat):
  chat.invite_candidates {session_id}         -> chat.invite_candidates {agents}
  chat.invite {session_id, agent_id}          -> chat.invite_sent
  chat.invitations {}                         -> chat.invitations {invitations}
  chat.templates {session_id}                 -> chat.templates {templates}
  chat.transcript {session_id}                -> chat.transcript {text}
  chat.time_entry_draft {session_id}          -> chat.time_entry_draft {minutes, note}
  chat.time_entry {session_id, minutes, note, client_id?} -> chat.time_entry_added {entry}
  chat.contact_candidates {session_id, query} -> chat.contact_candidates {contacts}
  chat.link_contact {session_id, contact_id}  -> chat.contact_linked {session}
Server -> browser: chat.invitation {session, invited_by} to the invitee
(chat.broadcasts.agent_invited); the invitee answers with chat.join.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from chat.agent_tools import contacts, invites, templates, time_entries
from chat.payloads import session_payload, user_payload
from realtime.registry import Audience, FrameContext, Int, Reply, Str, Uuid, frame

SESSION_ID = Int(min_value=1)
# The note is the chat's log, edited; the socket's frame-size limit bounds it.
NOTE = Str(max_length=1_000_000, min_length=0, required=False, default="", strip=False)


@frame("chat.invite_candidates", audience=Audience.STAFF, fields={"session_id": SESSION_ID})
async def chat_invite_candidates(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    agents = await database_sync_to_async(invites.invite_candidates)(
        session_id=data["session_id"], user=ctx.user
    )
    return {"type": "chat.invite_candidates", "session_id": data["session_id"], "agents": agents}


@frame(
    "chat.invite",
    audience=Audience.STAFF,
    fields={"session_id": SESSION_ID, "agent_id": Int(min_value=1)},
)
async def chat_invite(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    @database_sync_to_async
    def invite() -> dict[str, Any]:
        invitation = invites.invitation_create(
            session_id=data["session_id"], inviter=ctx.user, invitee_id=data["agent_id"]
        )
        return {
            "type": "chat.invite_sent",
            "session_id": invitation.session_id,
            "agent": user_payload(invitation.invitee),
        }

    return await invite()


@frame("chat.invitations", audience=Audience.STAFF)
async def chat_invitations(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    """The open invitations of this agent: the console shows them again after a reload."""

    @database_sync_to_async
    def build() -> dict[str, Any]:
        return {
            "type": "chat.invitations",
            "invitations": [
                {"session": session_payload(i.session), "invited_by": user_payload(i.invited_by)}
                for i in invites.open_invitations(agent=ctx.user)
            ],
        }

    return await build()


@frame("chat.templates", audience=Audience.STAFF, fields={"session_id": SESSION_ID})
async def chat_templates(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    filled = await database_sync_to_async(templates.templates_for_session)(
        session_id=data["session_id"], agent=ctx.user
    )
    return {"type": "chat.templates", "session_id": data["session_id"], "templates": filled}


@frame("chat.transcript", audience=Audience.STAFF, fields={"session_id": SESSION_ID})
async def chat_transcript(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    text = await database_sync_to_async(time_entries.chat_log)(
        session_id=data["session_id"], user=ctx.user
    )
    return {"type": "chat.transcript", "session_id": data["session_id"], "text": text}


@frame("chat.time_entry_draft", audience=Audience.STAFF, fields={"session_id": SESSION_ID})
async def chat_time_entry_draft(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    draft = await database_sync_to_async(time_entries.time_entry_draft)(
        session_id=data["session_id"], agent=ctx.user
    )
    return {
        "type": "chat.time_entry_draft",
        "session_id": data["session_id"],
        "ticket_id": draft.ticket_id,
        "minutes": draft.minutes,
        "note": draft.note,
    }


@frame(
    "chat.time_entry",
    audience=Audience.STAFF,
    # Minutes are any whole number here: the service answers minutes_invalid
    # with the rule (positive, at most a day) instead of a bare field error.
    # client_id (optional): the same one again returns the entry logged with it.
    fields={
        "session_id": SESSION_ID,
        "minutes": Int(),
        "note": NOTE,
        "client_id": Uuid(required=False),
    },
)
async def chat_time_entry(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    entry = await database_sync_to_async(time_entries.chat_time_entry_add)(
        session_id=data["session_id"],
        agent=ctx.user,
        minutes=data["minutes"],
        note=data["note"],
        client_id=data["client_id"],
    )
    return {
        "type": "chat.time_entry_added",
        "session_id": data["session_id"],
        "ticket_id": entry.ticket_id,
        "entry": {"id": entry.pk, "minutes": entry.minutes, "note": entry.note},
    }


@frame(
    "chat.contact_candidates",
    audience=Audience.STAFF,
    fields={"session_id": SESSION_ID, "query": Str(max_length=200, min_length=0)},
)
async def chat_contact_candidates(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    found = await database_sync_to_async(contacts.contact_candidates)(
        session_id=data["session_id"], agent=ctx.user, query=data["query"]
    )
    return {"type": "chat.contact_candidates", "session_id": data["session_id"], "contacts": found}


@frame(
    "chat.link_contact",
    audience=Audience.STAFF,
    fields={"session_id": SESSION_ID, "contact_id": Int(min_value=1)},
)
async def chat_link_contact(ctx: FrameContext, data: dict[str, Any]) -> Reply:
    @database_sync_to_async
    def link() -> dict[str, Any]:
        session = contacts.contact_link(
            session_id=data["session_id"], agent=ctx.user, contact_id=data["contact_id"]
        )
        return {"type": "chat.contact_linked", "session": session_payload(session)}

    return await link()
