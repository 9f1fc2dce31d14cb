"""Consumer tests of every chat frame type over a real channel layer (Redis),
and of each refusal: an error frame with a stable code, nothing stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat.models import (
    ChatSession,
    ContactChatPermission,
    Message,
    MessageKind,
    PermissionValue,
    SessionStatus,
)
from presence.models import PresenceStatus
from tests.factories import TicketFactory
from tests.personas import AGENT1, AGENT2, ALICE, CAROL
from tests.realtime.conftest import receive_type, send
from tickets.models import TicketAttachment

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def make_people() -> dict[str, Any]:
    alice = ALICE.create()
    carol = CAROL.create()
    agent1 = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    agent2 = AGENT2.create(presence=PresenceStatus.AVAILABLE)
    ticket = TicketFactory(contact=alice.contact, subject="Printer on fire")
    return {"alice": alice, "carol": carol, "agent1": agent1, "agent2": agent2, "ticket": ticket}


async def request(ws, ticket) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    await send(
        ws, {"type": "chat.request", "kind": "post_ticket", "ticket_id": ticket.pk, "ref": "r"}
    )
    return await receive_type(ws, "chat.state")


async def receive_types(ws, types: set[str]) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The first frame of each type in ``types``, in whatever order they come."""
    found: dict[str, dict[str, Any]] = {}
    while set(found) != types:
        frame = await ws.receive_json_from(timeout=5)
        if frame["type"] in types:
            found.setdefault(frame["type"], frame)
    return found


async def expect_error(ws, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    frame = await receive_type(ws, "error")
    assert frame["code"] == code, frame
    return frame


async def start_chat(connect, people) -> tuple[Any, Any, int]:  # type: ignore[no-untyped-def]
    client_ws = await connect(people["alice"])
    agent_ws = await connect(people["agent1"])
    state = await request(client_ws, people["ticket"])
    session_id = state["session"]["id"]
    await send(agent_ws, {"type": "chat.join", "session_id": session_id})
    joined = await receive_type(agent_ws, "chat.state")
    assert joined["session"]["status"] == "active"
    return client_ws, agent_ws, session_id


async def test_request_pages_available_agents_and_fills_queue(connect) -> None:
    people = await make_people()
    agent_ws = await connect(people["agent1"])
    client_ws = await connect(people["alice"])
    state = await request(client_ws, people["ticket"])
    assert state["ref"] == "r"
    assert state["session"]["status"] == "waiting"
    assert [m["kind"] for m in state["messages"]] == ["system"]
    # Two groups (staff, the agent's own): no order between them.
    frames = await receive_types(agent_ws, {"queue.added", "chat.incoming"})
    assert frames["queue.added"]["session"]["ticket_id"] == people["ticket"].pk
    assert frames["chat.incoming"]["session"]["id"] == state["session"]["id"]


async def test_request_without_permission_is_refused(connect) -> None:
    people = await make_people()
    await sync_to_async(ContactChatPermission.objects.create)(
        contact=people["alice"].contact, value=PermissionValue.DENY
    )
    ws = await connect(people["alice"])
    await send(
        ws, {"type": "chat.request", "kind": "post_ticket", "ticket_id": people["ticket"].pk}
    )
    error = await expect_error(ws, "chat_not_allowed")
    assert "not available" in error["message"]
    assert await sync_to_async(ChatSession.objects.count)() == 0


async def test_request_by_staff_is_forbidden(connect) -> None:
    people = await make_people()
    ws = await connect(people["agent1"])
    await send(ws, {"type": "chat.request", "kind": "pre_ticket", "subject": "x"})
    await expect_error(ws, "forbidden")


async def test_request_missing_ticket_and_bad_kind(connect) -> None:
    people = await make_people()
    ws = await connect(people["alice"])
    await send(ws, {"type": "chat.request", "kind": "post_ticket"})
    await expect_error(ws, "not_found")
    await send(ws, {"type": "chat.request", "kind": "sideways"})
    error = await expect_error(ws, "invalid")
    assert "kind" in error["fields"]
    await send(ws, {"type": "chat.request", "kind": "pre_ticket", "subject": ""})
    await expect_error(ws, "subject_required")
    assert await sync_to_async(ChatSession.objects.count)() == 0


async def test_join_race_loser_is_told_it_was_taken(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    other = await connect(people["agent2"])
    await send(other, {"type": "chat.join", "session_id": session_id})
    await expect_error(other, "already_answered")
    # The client hears that an agent is in the room.
    update = await receive_type(client_ws, "chat.session")
    assert update["session"]["status"] == "active"


async def test_open_someone_elses_chat_is_not_found(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    carol_ws = await connect(people["carol"])
    await send(carol_ws, {"type": "chat.open", "session_id": session_id, "last_seq": 0})
    await expect_error(carol_ws, "not_found")
    # Carol's socket is not in the chat's group: a message does not reach it.
    await send(
        agent_ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "secret",
        },
    )
    await receive_type(agent_ws, "chat.ack")
    assert await carol_ws.receive_nothing(timeout=0.3)


async def test_send_before_agent_joins_is_refused(connect) -> None:
    people = await make_people()
    ws = await connect(people["alice"])
    state = await request(ws, people["ticket"])
    await send(
        ws,
        {
            "type": "chat.send",
            "session_id": state["session"]["id"],
            "client_id": str(uuid.uuid4()),
            "body": "Hello?",
        },
    )
    await expect_error(ws, "invalid_state")
    assert not await sync_to_async(Message.objects.filter(kind=MessageKind.TEXT).exists)()


async def test_send_both_ways_and_resend_is_idempotent(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    other_tab = await connect(people["alice"])
    await send(other_tab, {"type": "chat.open", "session_id": session_id, "last_seq": 0})
    await receive_type(other_tab, "chat.state")
    client_id = str(uuid.uuid4())
    frame = {
        "type": "chat.send",
        "session_id": session_id,
        "client_id": client_id,
        "body": "<script>alert(1)</script>",
        "ref": 7,
    }
    await send(client_ws, frame)
    ack = await receive_type(client_ws, "chat.ack")
    assert ack["ref"] == 7 and ack["created"] is True
    seq = ack["message"]["seq"]
    for receiver in (agent_ws, other_tab):  # the author's other tab too
        received = await receive_type(receiver, "chat.message")
        assert received["message"]["seq"] == seq
        assert received["message"]["body"] == "<script>alert(1)</script>"  # text; the page escapes
        assert received["message"] == ack["message"]  # the ack carries what the others get
    await send(client_ws, frame)  # the resend after a lost ack
    again = await receive_type(client_ws, "chat.ack")
    assert again["created"] is False and again["message"]["seq"] == seq
    assert (
        await sync_to_async(
            Message.objects.filter(session_id=session_id, kind=MessageKind.TEXT).count
        )()
        == 1
    )
    await send(
        agent_ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "Hi Alice",
        },
    )
    # The socket that sent a message has it from its ack and is not sent it
    # again: the next message the client's socket gets is the agent's.
    reply = await receive_type(client_ws, "chat.message")
    assert reply["message"]["body"] == "Hi Alice" and reply["message"]["seq"] == seq + 1
    assert (await receive_type(agent_ws, "chat.ack"))["message"]["seq"] == seq + 1
    assert await agent_ws.receive_nothing(timeout=0.3)


async def test_send_refusals(connect, settings) -> None:
    settings.CHAT_MESSAGE_MAX_CHARS = 100
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    before = await sync_to_async(Message.objects.count)()
    await send(
        client_ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "x" * 101,
        },
    )
    await expect_error(client_ws, "message_too_long")
    await send(client_ws, {"type": "chat.send", "session_id": session_id, "body": "hi"})
    error = await expect_error(client_ws, "invalid")
    assert error["fields"] == {"client_id": "is required"}
    await send(
        client_ws,
        {"type": "chat.send", "session_id": session_id, "client_id": "not-a-uuid", "body": "hi"},
    )
    await expect_error(client_ws, "invalid")
    await send(
        client_ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "   ",
        },
    )
    await expect_error(client_ws, "message_empty")
    assert await sync_to_async(Message.objects.count)() == before


async def test_reconnect_replays_missed_messages_in_order(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    state = await receive_type(client_ws, "chat.session")
    last_seen = state["session"]["last_seq"]
    await client_ws.disconnect()
    sent = []
    for i in range(3):
        await send(
            agent_ws,
            {
                "type": "chat.send",
                "session_id": session_id,
                "client_id": str(uuid.uuid4()),
                "body": f"while away {i}",
            },
        )
        sent.append((await receive_type(agent_ws, "chat.ack"))["message"]["seq"])
    back = await connect(people["alice"])
    await send(back, {"type": "chat.open", "session_id": session_id, "last_seq": last_seen})
    replay = await receive_type(back, "chat.state")
    assert [m["seq"] for m in replay["messages"]] == sent
    assert [m["body"] for m in replay["messages"]] == [f"while away {i}" for i in range(3)]
    # And live again afterwards.
    await send(
        agent_ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "welcome back",
        },
    )
    assert (await receive_type(back, "chat.message"))["message"]["body"] == "welcome back"


async def test_history_fetches_a_range(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await send(
        client_ws, {"type": "chat.history", "session_id": session_id, "after_seq": 0, "limit": 1}
    )
    page = await receive_type(client_ws, "chat.messages")
    assert [m["seq"] for m in page["messages"]] == [1] and page["has_more"] is True
    await send(client_ws, {"type": "chat.history", "session_id": session_id, "after_seq": 1})
    page = await receive_type(client_ws, "chat.messages")
    assert [m["seq"] for m in page["messages"]] == [2] and page["has_more"] is False
    carol_ws = await connect(people["carol"])
    await send(carol_ws, {"type": "chat.history", "session_id": session_id})
    await expect_error(carol_ws, "not_found")


async def test_read_marker(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await send(client_ws, {"type": "chat.read", "session_id": session_id, "seq": 2})
    ack = await receive_type(client_ws, "chat.read_ack")
    assert ack["seq"] == 2
    moved = await receive_type(agent_ws, "chat.read")
    assert moved["user_id"] == people["alice"].pk


async def test_end_then_both_leave(connect) -> None:
    people = await make_people()
    client_ws, agent_ws, session_id = await start_chat(connect, people)
    await send(client_ws, {"type": "chat.end", "session_id": session_id})
    await expect_error(client_ws, "end_not_allowed")  # not before an hour without messages
    await send(agent_ws, {"type": "chat.leave", "session_id": session_id})
    await expect_error(agent_ws, "end_first")
    await send(agent_ws, {"type": "chat.end", "session_id": session_id})
    ended = await receive_type(agent_ws, "chat.state")
    assert ended["session"]["status"] == "ended"
    told = await receive_type(client_ws, "chat.session")
    while told["session"]["status"] != "ended":
        told = await receive_type(client_ws, "chat.session")
    await send(
        client_ws,
        {
            "type": "chat.send",
            "session_id": session_id,
            "client_id": str(uuid.uuid4()),
            "body": "wait",
        },
    )
    await expect_error(client_ws, "invalid_state")
    await send(client_ws, {"type": "chat.leave", "session_id": session_id})
    assert (await receive_type(client_ws, "chat.left"))["session"]["id"] == session_id
    await send(agent_ws, {"type": "chat.leave", "session_id": session_id})
    await receive_type(agent_ws, "chat.left")
    # The transcript landed on the ticket (Celery runs inline in unit tests).
    assert (
        await sync_to_async(TicketAttachment.objects.filter(ticket=people["ticket"]).count)() == 1
    )


async def test_end_pre_ticket_needs_reason_for_close(connect) -> None:
    people = await make_people()
    client_ws = await connect(people["alice"])
    agent_ws = await connect(people["agent1"])
    await send(client_ws, {"type": "chat.request", "kind": "pre_ticket", "subject": "VPN"})
    session_id = (await receive_type(client_ws, "chat.state"))["session"]["id"]
    await send(agent_ws, {"type": "chat.join", "session_id": session_id})
    await receive_type(agent_ws, "chat.state")
    await send(agent_ws, {"type": "chat.end", "session_id": session_id, "outcome": "close"})
    await expect_error(agent_ws, "reason_required")
    await send(
        agent_ws,
        {
            "type": "chat.end",
            "session_id": session_id,
            "outcome": "create_ticket",
            "subject": "VPN broken",
        },
    )
    ended = await receive_type(agent_ws, "chat.state")
    assert ended["session"]["ticket_id"] is not None


async def test_push_accept_and_decline(connect) -> None:
    people = await make_people()
    agent_ws = await connect(people["agent1"])
    await send(agent_ws, {"type": "chat.push", "ticket_id": people["ticket"].pk})
    await expect_error(agent_ws, "client_offline")
    client_ws = await connect(people["alice"])
    await send(agent_ws, {"type": "chat.push", "ticket_id": people["ticket"].pk})
    state = await receive_type(agent_ws, "chat.state")
    assert state["session"]["status"] == "invited"
    invited = await receive_type(client_ws, "chat.invited")
    session_id = invited["session"]["id"]
    await send(client_ws, {"type": "chat.accept", "session_id": session_id})
    accepted = await receive_type(client_ws, "chat.state")
    assert accepted["session"]["status"] == "active"
    # Second push while one is open is refused.
    await send(agent_ws, {"type": "chat.push", "ticket_id": people["ticket"].pk})
    await expect_error(agent_ws, "chat_already_open")
    await send(agent_ws, {"type": "chat.end", "session_id": session_id})
    await receive_type(agent_ws, "chat.state")
    await send(agent_ws, {"type": "chat.push", "ticket_id": people["ticket"].pk})
    second = (await receive_type(client_ws, "chat.invited"))["session"]["id"]
    await send(client_ws, {"type": "chat.decline", "session_id": second})
    assert (await receive_type(client_ws, "chat.declined"))["session_id"] == second
    told = await receive_type(agent_ws, "chat.session")
    while (told["session"]["id"], told["session"]["status"]) != (second, "declined"):
        told = await receive_type(agent_ws, "chat.session")


async def test_push_answers_only_by_clients(connect) -> None:
    people = await make_people()
    agent_ws = await connect(people["agent1"])
    await send(agent_ws, {"type": "chat.accept", "session_id": 1})
    await expect_error(agent_ws, "forbidden")
    client_ws = await connect(people["alice"])
    await send(client_ws, {"type": "chat.push", "ticket_id": people["ticket"].pk})
    await expect_error(client_ws, "forbidden")


async def test_snapshot_for_staff_and_client(connect) -> None:
    people = await make_people()
    client_ws = await connect(people["alice"])
    state = await request(client_ws, people["ticket"])
    agent_ws = await connect(people["agent1"])
    await send(agent_ws, {"type": "chat.snapshot"})
    snapshot = await receive_type(agent_ws, "chat.snapshot")
    assert [s["id"] for s in snapshot["queue"]] == [state["session"]["id"]]
    await send(client_ws, {"type": "chat.snapshot"})
    mine = await receive_type(client_ws, "chat.snapshot")
    assert [s["id"] for s in mine["mine"]] == [state["session"]["id"]]
    assert mine["queue"] == [] and mine["others"] == []


async def test_client_leaving_waiting_request_abandons_it(connect) -> None:
    people = await make_people()
    client_ws = await connect(people["alice"])
    agent_ws = await connect(people["agent1"])
    state = await request(client_ws, people["ticket"])
    await send(client_ws, {"type": "chat.leave", "session_id": state["session"]["id"]})
    left = await receive_type(client_ws, "chat.left")
    assert left["session"]["status"] == SessionStatus.ABANDONED
    assert (await receive_type(agent_ws, "queue.abandoned"))["session"]["id"] == state["session"][
        "id"
    ]
