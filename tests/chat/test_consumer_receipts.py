"""Consumer tests of read receipts, typing and formatted messages over a real
channel layer: chat.read, chat.typing and body_html, with each refusal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message, Participant
from tests.chat.test_consumer_chat import expect_error, make_people, request, start_chat
from tests.personas import SUPERVISOR
from tests.realtime.conftest import receive_type, send
from tests.realtime.test_consumer import assert_closed

pytestmark = pytest.mark.django_db(transaction=True)


async def frames_of(ws, frame_type: str, *, timeout: float = 0.5) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every frame of ``frame_type`` that arrives until ``timeout`` passes quietly
    (others skipped). receive_nothing, not a receive timeout: that one would
    cancel the consumer."""
    found = []
    while not await ws.receive_nothing(timeout=timeout):
        frame = await ws.receive_json_from(timeout=5)
        if frame["type"] == frame_type:
            found.append(frame)
    return found


async def message_with_seq(ws, seq: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The chat.message event of message ``seq`` (events of earlier lines, such
    as "joined the chat", may still be on their way)."""
    while True:
        message = (await receive_type(ws, "chat.message"))["message"]
        if message["seq"] == seq:
            return message


async def say(ws, session_id: int, body: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    await send(
        ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": body,
            "ref": "s",
        },
    )
    return (await receive_type(ws, "chat.ack"))["message"]


async def watching_supervisor(connect, session_id: int):  # type: ignore[no-untyped-def]
    supervisor = await sync_to_async(SUPERVISOR.create)()
    ws = await connect(supervisor)
    await send(ws, {"type": "chat.open", "session_id": session_id, "last_seq": 0})
    await receive_type(ws, "chat.state")
    return supervisor, ws


# --- Formatting -------------------------------------------------------------------------


async def test_messages_carry_sanitized_html_both_ways(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    body = "**Printer** is [down](https://status.example) <script>alert(1)</script>"
    mine = await say(client_ws, session_id, body)
    assert mine["body"] == body  # the text as typed
    assert mine["body_html"] == (
        '<p><strong>Printer</strong> is <a href="https://status.example" target="_blank" '
        'rel="noopener noreferrer nofollow">down</a> &lt;script&gt;alert(1)&lt;/script&gt;</p>'
    )
    theirs = await message_with_seq(agent_ws, mine["seq"])
    assert theirs["body_html"] == mine["body_html"]
    # System lines are escaped text, not markdown.
    await send(agent_ws, {"type": "chat.open", "session_id": session_id, "last_seq": 0})
    state = await receive_type(agent_ws, "chat.state")
    system = [m for m in state["messages"] if m["kind"] == "system"]
    assert system and all(m["body_html"] == m["body"] for m in system)


# --- Read receipts ------------------------------------------------------------------------


async def test_read_by_the_other_side_reaches_the_sender_with_its_time(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    message = await say(agent_ws, session_id, "Have you tried new toner?")
    assert message["read_at"] is None
    await message_with_seq(client_ws, message["seq"])
    await send(client_ws, {"type": "chat.read", "session_id": session_id, "seq": message["seq"]})
    ack = await receive_type(client_ws, "chat.read_ack")
    assert ack["seq"] == message["seq"]
    moved = await receive_type(agent_ws, "chat.read")
    assert moved["user_id"] == people["alice"].pk and moved["side"] == "client"
    assert moved["read_at"] is not None
    # A reload shows the same: the message now has its read time.
    await send(agent_ws, {"type": "chat.open", "session_id": session_id, "last_seq": 0})
    state = await receive_type(agent_ws, "chat.state")
    (replayed,) = [m for m in state["messages"] if m["seq"] == message["seq"]]
    assert replayed["read_at"] == moved["read_at"]


async def test_read_from_a_watching_supervisor_moves_nothing(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    message = await say(client_ws, session_id, "Hello?")
    supervisor, watcher = await watching_supervisor(connect, session_id)
    await send(
        watcher,
        {"type": "chat.read", "session_id": session_id, "seq": message["seq"], "ref": "w"},
    )
    ack = await receive_type(watcher, "chat.read_ack")
    assert ack == {"type": "chat.read_ack", "session_id": session_id, "seq": 0, "ref": "w"}
    assert await frames_of(agent_ws, "chat.read") == []
    assert await frames_of(client_ws, "chat.read") == []
    stored = await sync_to_async(Message.objects.get)(session_id=session_id, seq=message["seq"])
    assert stored.read_at is None
    assert not await sync_to_async(
        Participant.objects.filter(session_id=session_id, user=supervisor).exists
    )()


async def test_read_refusals(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    outsider = await connect(people["agent2"])
    await send(outsider, {"type": "chat.read", "session_id": session_id, "seq": 3})
    await expect_error(outsider, "not_found")
    await send(client_ws, {"type": "chat.read", "session_id": session_id, "seq": -1})
    error = await expect_error(client_ws, "invalid")
    assert "seq" in error["fields"]
    await send(client_ws, {"type": "chat.read", "session_id": session_id})
    assert (await expect_error(client_ws, "invalid"))["fields"] == {"seq": "is required"}


# --- Typing ---------------------------------------------------------------------------------


async def test_typing_reaches_the_other_side_not_the_typist(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    # The client's second tab has the chat open too.
    second_tab = await connect(people["alice"])
    await send(second_tab, {"type": "chat.open", "session_id": session_id, "last_seq": 0})
    await receive_type(second_tab, "chat.state")
    supervisor, watcher = await watching_supervisor(connect, session_id)

    await send(client_ws, {"type": "chat.typing", "session_id": session_id, "ref": "t"})
    assert await receive_type(client_ws, "ack") == {"type": "ack", "ref": "t"}
    typing = await receive_type(agent_ws, "chat.typing")
    assert typing == {
        "type": "chat.typing",
        "session_id": session_id,
        "user": {"id": people["alice"].pk, "name": people["alice"].display_name, "role": "client"},
    }
    assert (await receive_type(watcher, "chat.typing"))["user"]["id"] == people["alice"].pk
    assert await frames_of(client_ws, "chat.typing") == []
    assert await frames_of(second_tab, "chat.typing") == []

    # And the other way.
    await send(agent_ws, {"type": "chat.typing", "session_id": session_id})
    assert (await receive_type(client_ws, "chat.typing"))["user"]["id"] == people["agent1"].pk
    assert await frames_of(agent_ws, "chat.typing") == []


async def test_typing_refusals(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    before = await sync_to_async(Message.objects.count)()

    supervisor, watcher = await watching_supervisor(connect, session_id)
    await send(watcher, {"type": "chat.typing", "session_id": session_id})
    await expect_error(watcher, "not_participant")

    for outsider in (people["agent2"], people["carol"]):
        ws = await connect(outsider)
        await send(ws, {"type": "chat.typing", "session_id": session_id})
        await expect_error(ws, "not_found")

    await send(client_ws, {"type": "chat.typing"})
    assert (await expect_error(client_ws, "invalid"))["fields"] == {"session_id": "is required"}
    await send(client_ws, {"type": "chat.typing", "session_id": session_id, "text": "secret"})
    assert (await expect_error(client_ws, "invalid"))["fields"] == {"text": "unknown field"}

    assert await frames_of(agent_ws, "chat.typing") == []
    assert await sync_to_async(Message.objects.count)() == before


async def test_typing_in_a_waiting_request_is_refused(connect) -> None:
    people = await make_people()
    client_ws = await connect(people["alice"])
    state = await request(client_ws, people["ticket"])
    await send(client_ws, {"type": "chat.typing", "session_id": state["session"]["id"]})
    await expect_error(client_ws, "chat_not_active")


async def test_typing_counts_against_the_socket_rate_limit(connect, settings) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    settings.WS_RATE_LIMIT_FRAMES = 5
    settings.WS_RATE_LIMIT_WINDOW_SECONDS = 60
    flooder = await connect(people["alice"])  # a fresh bucket under the low limit
    for index in range(6):
        await send(flooder, {"type": "chat.typing", "session_id": session_id, "ref": index})
    await assert_closed(flooder, 4429)
