"""Consumer tests of the chat window's agent-tool frames (chat/frames/agent_tools.py)
over a real channel layer: each frame's answer, and each refusal as an error
frame with a stable code, nothing stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat.models import ChatInvitation, ChatKind, ChatTemplate, Participant, TemplateKind
from tests.chat.test_consumer_chat import expect_error, make_people, start_chat
from tests.factories import AgentFactory
from tests.personas import AGENT1, AGENT2, ALICE, SUPERVISOR
from tests.realtime.conftest import receive_type, send
from tickets.models import TimeEntry

pytestmark = pytest.mark.django_db(transaction=True)


async def count(model: Any, **filters: Any) -> int:
    return await sync_to_async(lambda: model.objects.filter(**filters).count())()


async def test_invite_notifies_the_invitee_who_joins(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    other_ws = await connect(people["agent2"])

    await send(agent_ws, {"type": "chat.invite_candidates", "session_id": session_id, "ref": 1})
    candidates = await receive_type(agent_ws, "chat.invite_candidates")
    assert candidates["ref"] == 1
    assert [a["name"] for a in candidates["agents"]] == [AGENT2.full_name]

    agent2_id = people["agent2"].pk
    await send(agent_ws, {"type": "chat.invite", "session_id": session_id, "agent_id": agent2_id})
    sent = await receive_type(agent_ws, "chat.invite_sent")
    assert sent["agent"]["name"] == AGENT2.full_name
    invitation = await receive_type(other_ws, "chat.invitation")
    assert invitation["session"]["id"] == session_id
    assert invitation["invited_by"]["name"] == AGENT1.full_name
    # The room reads a system line.
    line = await receive_type(client_ws, "chat.message")
    while line["message"]["body"] != f"{AGENT1.full_name} invited {AGENT2.full_name} to the chat.":
        line = await receive_type(client_ws, "chat.message")

    # After a reload the invitation is still listed.
    await send(other_ws, {"type": "chat.invitations"})
    listed = await receive_type(other_ws, "chat.invitations")
    assert [i["session"]["id"] for i in listed["invitations"]] == [session_id]

    await send(other_ws, {"type": "chat.join", "session_id": session_id})
    state = await receive_type(other_ws, "chat.state")
    assert any(
        p["user"]["id"] == agent2_id and p["in_room"] for p in state["session"]["participants"]
    )
    # Everyone in the room sees the new participant (participants list is live).
    update = await receive_type(client_ws, "chat.session")
    while not any(p["user"]["id"] == agent2_id for p in update["session"]["participants"]):
        update = await receive_type(client_ws, "chat.session")
    await send(other_ws, {"type": "chat.invitations"})
    assert (await receive_type(other_ws, "chat.invitations"))["invitations"] == []


async def test_invite_refusals(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    agent2_id = people["agent2"].pk
    # Clients may not send the frame at all.
    await send(client_ws, {"type": "chat.invite", "session_id": session_id, "agent_id": agent2_id})
    await expect_error(client_ws, "forbidden")
    await send(client_ws, {"type": "chat.invite_candidates", "session_id": session_id})
    await expect_error(client_ws, "forbidden")
    # An agent who is not in the chat: "not found".
    other_ws = await connect(people["agent2"])
    await send(other_ws, {"type": "chat.invite", "session_id": session_id, "agent_id": agent2_id})
    await expect_error(other_ws, "not_found")
    await send(other_ws, {"type": "chat.invite_candidates", "session_id": session_id})
    await expect_error(other_ws, "not_found")
    # Not available (away), oneself, bad fields.
    away = await sync_to_async(AgentFactory)(full_name="Away Agent")
    await send(agent_ws, {"type": "chat.invite", "session_id": session_id, "agent_id": away.pk})
    await expect_error(agent_ws, "agent_unavailable")
    me = people["agent1"].pk
    await send(agent_ws, {"type": "chat.invite", "session_id": session_id, "agent_id": me})
    await expect_error(agent_ws, "invite_self")
    await send(agent_ws, {"type": "chat.invite", "session_id": session_id, "agent_id": "2"})
    error = await expect_error(agent_ws, "invalid")
    assert "agent_id" in error["fields"]
    assert await count(ChatInvitation) == 0
    # An uninvited agent's Join is still refused.
    await send(other_ws, {"type": "chat.join", "session_id": session_id})
    await expect_error(other_ws, "already_answered")
    assert await count(Participant, session_id=session_id, user=people["agent2"]) == 0


async def test_templates_frame(connect) -> None:
    people = await make_people()
    await sync_to_async(ChatTemplate.objects.create)(
        kind=TemplateKind.GREETING, title="Hello", body="Hi {client_first_name}, {agent_name} here"
    )
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await send(agent_ws, {"type": "chat.templates", "session_id": session_id})
    reply = await receive_type(agent_ws, "chat.templates")
    assert [(t["title"], t["text"]) for t in reply["templates"]] == [
        ("Hello", f"Hi {ALICE.first_name}, {AGENT1.full_name} here")
    ]
    await send(client_ws, {"type": "chat.templates", "session_id": session_id})
    await expect_error(client_ws, "forbidden")
    other_ws = await connect(people["agent2"])
    await send(other_ws, {"type": "chat.templates", "session_id": session_id})
    await expect_error(other_ws, "not_found")
    await send(agent_ws, {"type": "chat.templates"})
    await expect_error(agent_ws, "invalid")


async def test_transcript_frame(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await send(agent_ws, {"type": "chat.transcript", "session_id": session_id, "ref": "c"})
    reply = await receive_type(agent_ws, "chat.transcript")
    assert reply["ref"] == "c"
    assert reply["text"].startswith(f"Chat {session_id}: ")
    assert f"* {AGENT1.full_name} joined the chat." in reply["text"]
    await send(client_ws, {"type": "chat.transcript", "session_id": session_id})
    await expect_error(client_ws, "forbidden")
    other_ws = await connect(people["agent2"])
    await send(other_ws, {"type": "chat.transcript", "session_id": session_id})
    await expect_error(other_ws, "not_found")


async def test_time_entry_frames(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await send(agent_ws, {"type": "chat.time_entry_draft", "session_id": session_id})
    draft = await receive_type(agent_ws, "chat.time_entry_draft")
    assert draft["ticket_id"] == people["ticket"].pk
    assert draft["minutes"] == 1
    assert draft["note"].startswith(f"Chat with {ALICE.full_name} (")
    assert f"answered by {AGENT1.full_name}." in draft["note"]

    await send(
        agent_ws,
        {"type": "chat.time_entry", "session_id": session_id, "minutes": 3, "note": draft["note"]},
    )
    added = await receive_type(agent_ws, "chat.time_entry_added")
    assert added["ticket_id"] == people["ticket"].pk and added["entry"]["minutes"] == 3
    assert await count(TimeEntry, ticket=people["ticket"], minutes=3) == 1

    # With a client_id, a resend (its answer lost) returns the same entry.
    frame = {
        "type": "chat.time_entry",
        "session_id": session_id,
        "minutes": 7,
        "note": "",
        "client_id": str(uuid.uuid4()),
    }
    replies = []
    for _ in range(2):
        await send(agent_ws, frame)
        replies.append(await receive_type(agent_ws, "chat.time_entry_added"))
    assert replies[0]["entry"]["id"] == replies[1]["entry"]["id"]
    assert await count(TimeEntry, ticket=people["ticket"], minutes=7) == 1
    await send(agent_ws, {**frame, "client_id": "not-a-uuid"})
    error = await expect_error(agent_ws, "invalid")
    assert "client_id" in error["fields"]


async def test_time_entry_refusals(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    for minutes in (0, 24 * 60 + 1):
        await send(
            agent_ws,
            {"type": "chat.time_entry", "session_id": session_id, "minutes": minutes, "note": ""},
        )
        error = await expect_error(agent_ws, "minutes_invalid")
        assert "Minutes" in error["message"] or "24 hours" in error["message"]
    await send(agent_ws, {"type": "chat.time_entry", "session_id": session_id, "minutes": "5"})
    error = await expect_error(agent_ws, "invalid")
    assert "minutes" in error["fields"]
    await send(client_ws, {"type": "chat.time_entry", "session_id": session_id, "minutes": 5})
    await expect_error(client_ws, "forbidden")
    await send(client_ws, {"type": "chat.time_entry_draft", "session_id": session_id})
    await expect_error(client_ws, "forbidden")
    other_ws = await connect(people["agent2"])
    await send(other_ws, {"type": "chat.time_entry", "session_id": session_id, "minutes": 5})
    await expect_error(other_ws, "not_found")
    await send(other_ws, {"type": "chat.time_entry_draft", "session_id": session_id})
    await expect_error(other_ws, "not_found")
    assert await count(TimeEntry) == 0


async def test_time_entry_needs_a_ticket(connect) -> None:
    people = await make_people()
    client_ws = await connect(people["alice"])
    agent_ws = await connect(people["agent1"])
    await send(client_ws, {"type": "chat.request", "kind": ChatKind.PRE_TICKET, "subject": "VPN"})
    state = await receive_type(client_ws, "chat.state")
    session_id = state["session"]["id"]
    await send(agent_ws, {"type": "chat.join", "session_id": session_id})
    await receive_type(agent_ws, "chat.state")
    await send(agent_ws, {"type": "chat.time_entry_draft", "session_id": session_id})
    await expect_error(agent_ws, "no_ticket")
    await send(agent_ws, {"type": "chat.time_entry", "session_id": session_id, "minutes": 5})
    await expect_error(agent_ws, "no_ticket")
    assert await count(TimeEntry) == 0


async def test_supervisor_uses_the_tools_without_being_in_the_room(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    supervisor = await sync_to_async(SUPERVISOR.create)()
    ws = await connect(supervisor)
    for frame_type in (
        "chat.invite_candidates",
        "chat.templates",
        "chat.transcript",
        "chat.time_entry_draft",
    ):
        await send(ws, {"type": frame_type, "session_id": session_id})
        reply = await receive_type(ws, frame_type)
        assert reply["session_id"] == session_id
    await send(
        ws,
        {
            "type": "chat.invite",
            "session_id": session_id,
            "agent_id": people["agent2"].pk,
        },
    )
    await receive_type(ws, "chat.invite_sent")
    await send(ws, {"type": "chat.time_entry", "session_id": session_id, "minutes": 2})
    added = await receive_type(ws, "chat.time_entry_added")
    assert added["entry"]["minutes"] == 2
