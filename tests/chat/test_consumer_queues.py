"""Queues over the socket: a request reaches the sockets of its queue's
members and of the supervisors, never another agent's; a non-member's Join is
refused; the Chats panel lists only one's own queues; a change of membership
(Django admin, or anything that bypasses it, on the next re-check) takes
effect on open sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat.models import ChatQueue, ChatSession, Participant, SessionStatus
from presence.models import AgentConnection, AgentPresence, PresenceStatus
from tests.factories import AgentFactory, TicketFactory
from tests.personas import AGENT1, ALICE, SUPERVISOR, support_queue
from tests.realtime.conftest import receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def make_people() -> dict[str, Any]:
    """Alice's company goes to the Support queue (agent1 is its member); Nora
    is an available agent of no queue; the supervisor is in none either."""
    alice = ALICE.create()
    agent1 = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    outsider = AgentFactory(email="agent3@example.com", full_name="Nora Quinn")
    AgentPresence.objects.create(user=outsider, status=PresenceStatus.AVAILABLE)
    supervisor = SUPERVISOR.create(presence=PresenceStatus.AVAILABLE)
    queue = support_queue(agent1)
    ticket = TicketFactory(contact=alice.contact, subject="Printer on fire")
    return {
        "alice": alice,
        "agent1": agent1,
        "outsider": outsider,
        "supervisor": supervisor,
        "queue": queue,
        "ticket": ticket,
    }


async def hears_of(ws, session_id: int, *, seconds: float = 1) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``ws`` is offered the request ``session_id`` (its Chats panel's
    ``queue.added`` or the toast's ``chat.incoming``) within ``seconds``
    (the request was already made: its frames are on their way); other
    frames (a client coming online, earlier requests) may come and go. A
    receive that times out would end the socket: wait with receive_nothing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if await ws.receive_nothing(timeout=left):
            return False
        frame = await ws.receive_json_from()
        offered = frame["type"] in ("queue.added", "chat.incoming")
        if offered and frame["session"]["id"] == session_id:
            return True
    return False


async def request(connect, people) -> int:  # type: ignore[no-untyped-def]
    client_ws = await connect(people["alice"])
    await send(
        client_ws, {"type": "chat.request", "kind": "post_ticket", "ticket_id": people["ticket"].pk}
    )
    return (await receive_type(client_ws, "chat.state"))["session"]["id"]


async def test_a_request_reaches_its_queues_members_and_supervisors_only(connect) -> None:
    people = await make_people()
    member = await connect(people["agent1"])
    supervisor = await connect(people["supervisor"])
    outsider = await connect(people["outsider"])
    session_id = await request(connect, people)
    for ws in (member, supervisor):
        assert (await receive_type(ws, "queue.added"))["session"]["id"] == session_id
    # Neither the Chats panel's queue.added nor the toast's chat.incoming.
    assert not await hears_of(outsider, session_id)


async def test_a_non_members_join_is_refused_and_changes_nothing(connect) -> None:
    people = await make_people()
    session_id = await request(connect, people)
    outsider = await connect(people["outsider"])
    await send(outsider, {"type": "chat.join", "session_id": session_id, "ref": "j"})
    error = await receive_type(outsider, "error")
    assert (error["code"], error["ref"]) == ("not_in_queue", "j")
    assert "Support" in error["message"]
    session = await sync_to_async(ChatSession.objects.get)(pk=session_id)
    assert session.status == SessionStatus.WAITING
    assert not await sync_to_async(
        Participant.objects.filter(session_id=session_id, user=people["outsider"]).exists
    )()
    # A member and a supervisor may.
    supervisor = await connect(people["supervisor"])
    await send(supervisor, {"type": "chat.join", "session_id": session_id})
    assert (await receive_type(supervisor, "chat.state"))["session"]["status"] == "active"


async def test_the_snapshot_lists_only_own_queue_requests(connect) -> None:
    people = await make_people()
    session_id = await request(connect, people)
    for user, expected in (
        (people["agent1"], [session_id]),
        (people["supervisor"], [session_id]),
        (people["outsider"], []),
    ):
        ws = await connect(user)
        await send(ws, {"type": "chat.snapshot"})
        snapshot = await receive_type(ws, "chat.snapshot")
        assert [s["id"] for s in snapshot["queue"]] == expected, user


async def test_the_snapshot_names_the_queues_the_console_shows(connect) -> None:
    people = await make_people()
    for user, expected in (
        (people["agent1"], [people["queue"].pk]),
        (people["outsider"], []),
        (people["supervisor"], None),  # every queue
    ):
        ws = await connect(user)
        await send(ws, {"type": "chat.snapshot"})
        assert (await receive_type(ws, "chat.snapshot"))["queue_ids"] == expected


async def test_an_agent_added_to_a_queue_hears_its_requests_at_once(connect) -> None:
    people = await make_people()
    outsider = await connect(people["outsider"])
    await sync_to_async(people["queue"].members.add)(people["outsider"])
    # The console reloads its Chats panel...
    await receive_type(outsider, "chat.queues_changed")
    # ...and the socket is in the queue's group from now on.
    session_id = await request(connect, people)
    assert (await receive_type(outsider, "queue.added"))["session"]["id"] == session_id


async def test_an_agent_removed_from_a_queue_stops_hearing_it(connect) -> None:
    people = await make_people()
    member = await connect(people["agent1"])
    await sync_to_async(people["queue"].members.remove)(people["agent1"])
    await receive_type(member, "chat.queues_changed")
    assert not await hears_of(member, await request(connect, people))


@pytest.fixture
def fast_refresh(settings):  # type: ignore[no-untyped-def]
    # Sockets are re-checked every max(1 s, (stale - heartbeat) / 2).
    settings.PRESENCE_HEARTBEAT_SECONDS = 1
    settings.PRESENCE_STALE_SECONDS = 2


async def rechecked(user) -> None:  # type: ignore[no-untyped-def]
    """Wait until the login re-check has been through ``user``'s socket once
    more: presence's recheck hook refreshes its row in the tick that then
    chooses its groups again (not a fixed sleep: a loaded machine is late)."""

    @sync_to_async
    def last_seen():  # type: ignore[no-untyped-def]
        return AgentConnection.objects.filter(user=user).values_list("last_seen", flat=True).get()

    before = await last_seen()
    deadline = asyncio.get_running_loop().time() + 15
    while await last_seen() <= before:
        assert asyncio.get_running_loop().time() < deadline, "never re-checked"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # its groups are chosen right after the refresh


async def test_a_membership_written_behind_admins_back_counts_from_the_next_recheck(
    connect, fast_refresh
) -> None:
    people = await make_people()
    outsider = await connect(people["outsider"])
    assert not await hears_of(outsider, await request(connect, people))
    # A bulk write of the through table sends no signal: nobody is nudged.
    membership = ChatQueue.members.through
    await sync_to_async(membership.objects.bulk_create)(
        [membership(chatqueue=people["queue"], user=people["outsider"])]
    )
    await rechecked(people["outsider"])
    people["ticket"] = await sync_to_async(TicketFactory)(contact=people["alice"].contact)
    assert await hears_of(outsider, await request(connect, people), seconds=5)


async def test_a_membership_deleted_behind_admins_back_stops_from_the_next_recheck(
    connect, fast_refresh
) -> None:
    people = await make_people()
    member = await connect(people["agent1"])
    assert await hears_of(member, await request(connect, people), seconds=5)
    membership = ChatQueue.members.through.objects.filter(user=people["agent1"])
    await sync_to_async(membership.delete)()  # no m2m signal either
    await rechecked(people["agent1"])
    people["ticket"] = await sync_to_async(TicketFactory)(contact=people["alice"].contact)
    assert not await hears_of(member, await request(connect, people))
