"""Consumer tests of the supervisor frames over a real channel layer (Redis):
supervisor.snapshot, chat.watch, chat.unwatch, chat.comment, chat.comments,
their refusals, and a permission matrix (client, agent in the chat, other
agent, supervisor, anonymous) over every one of them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat.models import ChatComment, ChatSession, Participant
from presence.models import AgentPresence, PresenceStatus
from realtime.broadcast import event
from realtime.groups import user_group
from tests.factories import AgentFactory, TicketFactory
from tests.personas import AGENT1, AGENT2, ALICE, SUPERVISOR
from tests.realtime.conftest import receive_type, send
from tests.realtime.test_consumer import assert_closed

pytestmark = pytest.mark.django_db(transaction=True)

AT_SUPERVISOR = f"@{SUPERVISOR.first_name}"  # a mention by first name


@sync_to_async
def make_people() -> dict[str, Any]:
    alice = ALICE.create()
    agent1 = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    agent2 = AGENT2.create(presence=PresenceStatus.AVAILABLE)
    # A third agent, beyond the demo's two (named like no demo person).
    agent3 = AgentFactory(email="agent3@example.com", full_name="Nora Quinn")
    AgentPresence.objects.create(user=agent3, status=PresenceStatus.AVAILABLE)
    supervisor = SUPERVISOR.create()
    ticket = TicketFactory(contact=alice.contact, subject="Printer on fire")
    return {
        "alice": alice,
        "agent1": agent1,
        "agent2": agent2,
        "agent3": agent3,
        "supervisor": supervisor,
        "ticket": ticket,
    }


async def start_chat(connect, people) -> tuple[Any, Any, int]:  # type: ignore[no-untyped-def]
    client_ws = await connect(people["alice"])
    agent_ws = await connect(people["agent1"])
    await send(
        client_ws,
        {"type": "chat.request", "kind": "post_ticket", "ticket_id": people["ticket"].pk},
    )
    session_id = (await receive_type(client_ws, "chat.state"))["session"]["id"]
    await send(agent_ws, {"type": "chat.join", "session_id": session_id})
    assert (await receive_type(agent_ws, "chat.state"))["session"]["status"] == "active"
    return client_ws, agent_ws, session_id


async def expect_error(ws, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    frame = await receive_type(ws, "error")
    assert frame["code"] == code, frame
    return frame


async def frames_until_pong(ws) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every frame that reached ``ws`` before a ping's answer."""
    await send(ws, {"type": "ping", "ref": "fence"})
    seen = []
    while True:
        frame = await ws.receive_json_from(timeout=5)
        if frame["type"] == "pong":
            return seen
        seen.append(frame)


async def say(ws, session_id: int, body: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    await send(
        ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": body,
        },
    )
    return await receive_type(ws, "chat.ack")


# --- supervisor.snapshot ---------------------------------------------------------------------


async def test_snapshot_shows_chats_by_agent(connect) -> None:
    people = await make_people()
    _, _, session_id = await start_chat(connect, people)
    ws = await connect(people["supervisor"])
    await send(ws, {"type": "supervisor.snapshot", "ref": 1})
    snap = await receive_type(ws, "supervisor.snapshot")
    assert snap["ref"] == 1
    assert [c["id"] for c in snap["chats"]] == [session_id]
    agent1 = next(a for a in snap["agents"] if a["id"] == people["agent1"].pk)
    assert agent1["chat_ids"] == [session_id]
    assert snap["waiting"] == []


async def test_snapshot_refused_to_agents_and_clients(connect) -> None:
    people = await make_people()
    for who in ("agent1", "alice"):
        ws = await connect(people[who])
        await send(ws, {"type": "supervisor.snapshot"})
        await expect_error(ws, "forbidden")


# --- chat.watch / chat.unwatch ---------------------------------------------------------------


async def test_watch_returns_history_then_follows_live_without_taking_part(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await say(client_ws, session_id, "It prints blank pages")
    sup = await connect(people["supervisor"])
    await send(sup, {"type": "chat.watch", "session_id": session_id, "ref": "w"})
    watching = await receive_type(sup, "chat.watching")
    assert watching["ref"] == "w"
    assert watching["messages"][-1]["body"] == "It prints blank pages"
    assert watching["comments"] == []
    last_seq = watching["messages"][-1]["seq"]

    await say(agent_ws, session_id, "Try new toner")
    live = await receive_type(sup, "chat.message")
    assert live["message"]["body"] == "Try new toner"

    # Read-only: no send, reading moves nothing, not a participant.
    await send(
        sup,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "x",
        },
    )
    await expect_error(sup, "not_found")
    await send(sup, {"type": "chat.read", "session_id": session_id, "seq": last_seq + 1})
    assert (await receive_type(sup, "chat.read_ack"))["seq"] == 0
    assert not await sync_to_async(Participant.objects.filter(user=people["supervisor"]).exists)()
    # The others hear nothing about the watcher.
    for ws in (client_ws, agent_ws):
        seen = await frames_until_pong(ws)
        assert all("supervisor" not in str(f).lower() for f in seen), seen


async def test_unwatch_stops_the_chats_events(connect) -> None:
    people = await make_people()
    client_ws, _, session_id = await start_chat(connect, people)
    sup = await connect(people["supervisor"])
    await send(sup, {"type": "chat.watch", "session_id": session_id})
    await receive_type(sup, "chat.watching")
    await send(sup, {"type": "chat.unwatch", "session_id": session_id, "ref": "u"})
    assert (await receive_type(sup, "chat.unwatched")) == {
        "type": "chat.unwatched",
        "session_id": session_id,
        "ref": "u",
    }
    await say(client_ws, session_id, "anyone?")
    seen = await frames_until_pong(sup)
    assert not [f for f in seen if f["type"] in ("chat.message", "chat.session")], seen


async def test_unwatch_keeps_the_chat_of_a_supervisor_in_the_room(connect) -> None:
    people = await make_people()
    client_ws = await connect(people["alice"])
    sup = await connect(people["supervisor"])
    await send(
        client_ws,
        {"type": "chat.request", "kind": "post_ticket", "ticket_id": people["ticket"].pk},
    )
    session_id = (await receive_type(client_ws, "chat.state"))["session"]["id"]
    await send(sup, {"type": "chat.join", "session_id": session_id})
    await receive_type(sup, "chat.state")
    await send(sup, {"type": "chat.watch", "session_id": session_id})
    await receive_type(sup, "chat.watching")
    await send(sup, {"type": "chat.unwatch", "session_id": session_id})
    await receive_type(sup, "chat.unwatched")
    # Its docked window still gets the chat: it answered it.
    await say(client_ws, session_id, "still there?")
    assert (await receive_type(sup, "chat.message"))["message"]["body"] == "still there?"


async def test_watch_refusals(connect) -> None:
    people = await make_people()
    _, agent_ws, session_id = await start_chat(connect, people)
    sup = await connect(people["supervisor"])
    await send(sup, {"type": "chat.watch", "session_id": 999_999})
    await expect_error(sup, "not_found")
    await send(sup, {"type": "chat.watch", "session_id": "x"})
    assert "session_id" in (await expect_error(sup, "invalid"))["fields"]
    await send(agent_ws, {"type": "chat.end", "session_id": session_id})
    await receive_type(agent_ws, "chat.state")
    await send(sup, {"type": "chat.watch", "session_id": session_id})
    await expect_error(sup, "chat_not_live")
    # A refused watch leaves the socket in no group of that chat.
    seen = await frames_until_pong(sup)
    assert not [f for f in seen if f.get("session_id") == session_id], seen


# --- chat.comment / chat.comments ------------------------------------------------------------


async def test_comment_reaches_staff_and_the_mentioned_never_the_client(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    sup = await connect(people["supervisor"])
    mentioned_ws = await connect(people["agent2"])  # mentioned, not in the chat
    other_ws = await connect(people["agent3"])  # neither
    await send(sup, {"type": "chat.watch", "session_id": session_id})
    await receive_type(sup, "chat.watching")

    body = f"@{AGENT2.first_name} check the toner <script>alert(1)</script>"
    await send(sup, {"type": "chat.comment", "session_id": session_id, "body": body, "ref": "c"})
    reply = await receive_type(sup, "chat.commented")
    assert reply["ref"] == "c"
    assert reply["comment"]["body"] == body
    assert [u["name"] for u in reply["comment"]["mentions"]] == [AGENT2.full_name]

    for ws in (sup, agent_ws, mentioned_ws):
        frame = await receive_type(ws, "chat.comment")
        assert frame["comment"]["id"] == reply["comment"]["id"]
        assert frame["session_id"] == session_id
    assert not [f for f in await frames_until_pong(other_ws) if f["type"] == "chat.comment"]
    # The client: no frame of any type mentions it.
    seen = await frames_until_pong(client_ws)
    assert "toner" not in str(seen), seen

    # chat.comments for whoever may read them.
    for ws in (agent_ws, sup):
        await send(ws, {"type": "chat.comments", "session_id": session_id})
        listed = await receive_type(ws, "chat.comments")
        assert [c["body"] for c in listed["comments"]] == [body]


async def test_agent_in_the_room_comments_to_the_supervisor(connect) -> None:
    people = await make_people()
    _, agent_ws, session_id = await start_chat(connect, people)
    sup = await connect(people["supervisor"])
    await send(
        agent_ws,
        {"type": "chat.comment", "session_id": session_id, "body": f"{AT_SUPERVISOR} help"},
    )
    await receive_type(agent_ws, "chat.commented")
    frame = await receive_type(sup, "chat.comment")  # mentioned, though not watching
    assert frame["comment"]["author"]["name"] == AGENT1.full_name

    # Sent again with the same client_id (its answer lost): the same comment.
    comment = {"type": "chat.comment", "session_id": session_id, "body": f"{AT_SUPERVISOR} again"}
    comment["client_id"] = str(uuid.uuid4())
    ids = []
    for _ in range(2):
        await send(agent_ws, comment)
        ids.append((await receive_type(agent_ws, "chat.commented"))["comment"]["id"])
    assert ids[0] == ids[1]
    assert (
        await sync_to_async(ChatComment.objects.filter(body=f"{AT_SUPERVISOR} again").count)() == 1
    )
    await send(agent_ws, {**comment, "client_id": "nope"})
    assert "client_id" in (await expect_error(agent_ws, "invalid"))["fields"]


async def test_comment_refusals(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    other_ws = await connect(people["agent2"])
    await send(client_ws, {"type": "chat.comment", "session_id": session_id, "body": "hi"})
    await expect_error(client_ws, "forbidden")
    await send(other_ws, {"type": "chat.comment", "session_id": session_id, "body": "hi"})
    await expect_error(other_ws, "not_found")
    await send(agent_ws, {"type": "chat.comment", "session_id": session_id, "body": "   "})
    await expect_error(agent_ws, "comment_empty")
    await send(agent_ws, {"type": "chat.comment", "session_id": session_id})
    assert "body" in (await expect_error(agent_ws, "invalid"))["fields"]
    await send(client_ws, {"type": "chat.comments", "session_id": session_id})
    await expect_error(client_ws, "forbidden")
    await send(other_ws, {"type": "chat.comments", "session_id": session_id})
    await expect_error(other_ws, "not_found")
    assert await sync_to_async(ChatComment.objects.count)() == 0


async def test_a_comment_event_never_reaches_a_client_socket(connect) -> None:
    """Defence in depth: even a comment event sent to a client's group by
    mistake is dropped by the relay hook."""
    from channels.layers import get_channel_layer

    people = await make_people()
    client_ws = await connect(people["alice"])
    frame = event("chat.comment", {"session_id": 1, "comment": {"body": "secret"}})
    await get_channel_layer().group_send(user_group(people["alice"].pk), frame)
    assert "secret" not in str(await frames_until_pong(client_ws))


# --- Permission matrix -----------------------------------------------------------------------

MATRIX_FRAMES = [
    "supervisor.snapshot",
    "chat.watch",
    "chat.unwatch",
    "chat.comment",
    "chat.comments",
]
# Expected reply type, or error code.
EXPECTED = {
    "alice": dict.fromkeys(MATRIX_FRAMES, "forbidden"),
    "agent1": {
        "supervisor.snapshot": "forbidden",
        "chat.watch": "forbidden",
        "chat.unwatch": "forbidden",
        "chat.comment": "chat.commented",
        "chat.comments": "chat.comments",
    },
    "agent2": {
        "supervisor.snapshot": "forbidden",
        "chat.watch": "forbidden",
        "chat.unwatch": "forbidden",
        "chat.comment": "not_found",
        "chat.comments": "not_found",
    },
    "supervisor": {
        "supervisor.snapshot": "supervisor.snapshot",
        "chat.watch": "chat.watching",
        "chat.unwatch": "chat.unwatched",
        "chat.comment": "chat.commented",
        "chat.comments": "chat.comments",
    },
}


def _frame(frame_type: str, session_id: int) -> dict[str, Any]:
    fields: dict[str, Any] = (
        {} if frame_type == "supervisor.snapshot" else {"session_id": session_id}
    )
    if frame_type == "chat.comment":
        fields["body"] = "a comment"
    return {"type": frame_type, "ref": "m", **fields}


@pytest.mark.parametrize("who", ["alice", "agent1", "agent2", "supervisor", "anonymous"])
async def test_permission_matrix(connect, who) -> None:
    people = await make_people()
    _, _, session_id = await start_chat(connect, people)
    if who == "anonymous":
        # Nothing to send: the socket is closed before any frame is read.
        await assert_closed(await connect(None), 4401)
        return
    ws = people_ws = await connect(people[who])
    assert people_ws
    for frame_type in MATRIX_FRAMES:
        await send(ws, _frame(frame_type, session_id))
        while True:
            reply = await ws.receive_json_from(timeout=5)
            if reply.get("ref") == "m":
                break
        expected = EXPECTED[who][frame_type]
        if reply["type"] == "error":
            assert reply["code"] == expected, (frame_type, reply)
        else:
            assert reply["type"] == expected, (frame_type, reply)
    comments = await sync_to_async(ChatComment.objects.count)()
    assert comments == (1 if who in ("agent1", "supervisor") else 0)
    assert await sync_to_async(ChatSession.objects.count)() == 1
