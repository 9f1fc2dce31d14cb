"""Consumer tests of chat.transfer_targets and chat.transfer over a real
channel layer: the new agent is told and subscribed, the old one stops hearing
the chat, the client never sees the reason, refusals are error frames."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat.models import ChatTransfer, Participant
from presence.models import AgentPresence, PresenceStatus
from tests.chat.test_consumer_chat import expect_error, make_people, start_chat
from tests.chat.test_consumer_chat import request as receive_state_of_request
from tests.personas import AGENT1, AGENT2
from tests.realtime.conftest import receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


async def drain(ws) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every frame that arrives until the socket is quiet for 0.3 s
    (receive_nothing, unlike a receive timeout, leaves the consumer running)."""
    frames = []
    while not await ws.receive_nothing(timeout=0.3):
        frames.append(await ws.receive_json_from())
    return frames


async def test_targets_then_transfer(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    other_ws = await connect(people["agent2"])

    await send(agent_ws, {"type": "chat.transfer_targets", "session_id": session_id, "ref": "t"})
    targets = await receive_type(agent_ws, "chat.transfer_targets")
    assert [a["name"] for a in targets["agents"]] == [AGENT2.full_name]
    assert targets["ref"] == "t"

    await drain(client_ws)
    await send(
        agent_ws,
        {
            "type": "chat.transfer",
            "session_id": session_id,
            "agent_id": people["agent2"].pk,
            "reason": "Knows printers",
        },
    )
    done = await receive_type(agent_ws, "chat.transfer_done")
    assert done["session"]["id"] == session_id

    told = await receive_type(other_ws, "chat.transferred")
    assert told["by"]["name"] == AGENT1.full_name
    assert told["reason"] == "Knows printers"
    assert told["session"]["id"] == session_id

    client_frames = await drain(client_ws)
    lines = [f["message"]["body"] for f in client_frames if f["type"] == "chat.message"]
    assert f"{AGENT1.full_name} transferred the chat to {AGENT2.full_name}." in lines
    assert "Knows printers" not in str(client_frames)

    # The new agent's socket was subscribed: it hears the client; the old one does not.
    await drain(agent_ws)
    await drain(other_ws)
    await send(
        client_ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "hi",
        },
    )
    heard = await receive_type(other_ws, "chat.message")
    assert heard["message"]["body"] == "hi"
    assert not [f for f in await drain(agent_ws) if f["type"] == "chat.message"]


async def test_transfer_refusals(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await sync_to_async(AgentPresence.objects.filter(user=people["agent2"]).update)(
        status=PresenceStatus.AWAY
    )
    frame = {
        "type": "chat.transfer",
        "session_id": session_id,
        "agent_id": people["agent2"].pk,
        "reason": "x",
    }
    await send(agent_ws, frame)
    await expect_error(agent_ws, "target_unavailable")
    await send(agent_ws, {**frame, "reason": ""})
    await expect_error(agent_ws, "invalid")
    await send(agent_ws, {k: v for k, v in frame.items() if k != "agent_id"})
    await expect_error(agent_ws, "target_required")
    # Clients may not send either frame; another agent cannot see the chat.
    await send(client_ws, frame)
    await expect_error(client_ws, "forbidden")
    await send(client_ws, {"type": "chat.transfer_targets", "session_id": session_id})
    await expect_error(client_ws, "forbidden")
    other_ws = await connect(people["agent2"])
    await send(other_ws, {"type": "chat.transfer_targets", "session_id": session_id})
    await expect_error(other_ws, "not_found")

    assert not await sync_to_async(ChatTransfer.objects.exists)()
    assert (
        await sync_to_async(
            Participant.objects.filter(session_id=session_id, left_at__isnull=True).count
        )()
        == 2
    )


async def test_agent_transferred_away_reads_but_no_longer_hears(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    new_agent_ws = await connect(people["agent2"])
    await send(
        agent_ws,
        {
            "type": "chat.transfer",
            "session_id": session_id,
            "agent_id": people["agent2"].pk,
            "reason": "Shift ends",
        },
    )
    await receive_type(agent_ws, "chat.transfer_done")
    await receive_type(new_agent_ws, "chat.subscribed")
    # A fresh tab of the old agent opens the chat: the transcript, no events.
    fresh = await connect(people["agent1"])
    await send(fresh, {"type": "chat.open", "session_id": session_id})
    state = await receive_type(fresh, "chat.state")
    assert any("transferred" in m["body"] for m in state["messages"])
    await drain(fresh)
    await send(
        client_ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "x",
        },
    )
    await receive_type(client_ws, "chat.ack")
    # The new agent hears it (so the event went out); the old agent's tab does not.
    assert (await receive_type(new_agent_ws, "chat.message"))["message"]["body"] == "x"
    assert not [f for f in await drain(fresh) if f["type"] == "chat.message"]


async def test_an_agent_reading_a_waiting_request_does_not_hear_the_chat(connect) -> None:
    """Any agent may open a waiting request, but only the agents in the room
    hear the chat once it is answered."""
    people = await make_people()
    client_ws = await connect(people["alice"])
    state = await receive_state_of_request(client_ws, people["ticket"])
    session_id = state["session"]["id"]
    onlooker = await connect(people["agent2"])
    await send(onlooker, {"type": "chat.open", "session_id": session_id})
    assert (await receive_type(onlooker, "chat.state"))["session"]["status"] == "waiting"
    agent_ws = await connect(people["agent1"])
    await send(agent_ws, {"type": "chat.join", "session_id": session_id})
    await receive_type(agent_ws, "chat.state")
    await send(
        client_ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "x",
        },
    )
    message = await receive_type(agent_ws, "chat.message")
    while message["message"]["body"] != "x":
        message = await receive_type(agent_ws, "chat.message")
    assert not [f for f in await drain(onlooker) if f["type"] == "chat.message"]
