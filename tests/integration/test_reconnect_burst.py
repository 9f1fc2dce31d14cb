"""A daphne process dies with 40 sockets on it: they all reconnect to the other
process at once, as browsers behind a proxy do, and each must get what its
page asks for on ``hello`` (``chat.snapshot``, then ``chat.open`` with its
last seq) and have the message its user typed meanwhile stored once and
delivered.

40 chats, each with its client on one process and its agent on the other
(alternating), so that 40 sockets of both kinds are on daphne A. Daphne A is
killed with SIGKILL (no close frames, no disconnect code). The peers wait for
replies as long as the browser does (static/js/socket.js gives up after 15 s,
and a sync that gives up sends nothing until the next reconnect).
How fast the replies come is measured by ``make bench``
(tests/bench/burst.py), not here.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from chat.models import Message, MessageKind
from tests.factories import AgentFactory, TicketFactory, client_user
from tests.integration.conftest import ChatPeer, Stack, session_cookie, until

CHATS = 40  # = the sockets on the killed process: half clients, half agents
BROWSER_REQUEST_TIMEOUT = 15.0  # static/js/socket.js, requestTimeoutMs
SCENARIO_TIMEOUT = 180  # seconds, for everything after the stack is up


async def open_chat(client: ChatPeer, agent: ChatPeer, ticket_id: int) -> int:
    """The client asks to chat about its ticket; the agent joins."""
    state = await client.request(
        {"type": "chat.request", "kind": "post_ticket", "ticket_id": ticket_id}
    )
    client.open_chat(state)
    joined = await agent.request({"type": "chat.join", "session_id": state["session"]["id"]})
    assert joined["session"]["status"] == "active", joined
    agent.open_chat(joined)
    return client.session_id or 0


async def kill_and_reconnect(
    stack: Stack, pairs: list[tuple[ChatPeer, ChatPeer]], tickets: list[int]
) -> tuple[list[ChatPeer], list[ChatPeer], dict[str, str]]:
    """Returns the peers that moved, those that stayed on daphne B, and the
    client_id each moved peer sent (by peer name)."""
    peers = [peer for pair in pairs for peer in pair]
    try:
        # A few chats at a time: the set-up is not what is tested, and 80
        # handshakes at once on a busy machine outlast a peer's connect timeout.
        gate = asyncio.Semaphore(8)

        async def create(pair: tuple[ChatPeer, ChatPeer], ticket_id: int) -> None:
            async with gate:
                for peer in pair:
                    await peer.start(timeout=60)
                await open_chat(*pair, ticket_id)

        await asyncio.gather(
            *(create(pair, ticket) for pair, ticket in zip(pairs, tickets, strict=True))
        )
        moving = [peer for peer in peers if peer.url == stack.ws_url_of("daphne")]
        staying = [peer for peer in peers if peer not in moving]
        assert len(moving) == CHATS

        # The proxy sends whoever comes back to the process that is left.
        for peer in moving:
            peer.url, peer.origin = stack.ws_url_of("daphne-b"), stack.origin_of("daphne-b")
        await asyncio.to_thread(stack.kill, "daphne")
        # Each user types a message at once; it waits in the outbox until its
        # page has synced on the new connection.
        typed = {peer.name: peer.send(f"Still there? ({peer.name})") for peer in moving}
        other_side = {peer.session_id: peer for peer in staying}

        def everyone_back() -> bool:
            return all(
                peer.hellos == 2
                and peer.settled
                and peer.acked.get(typed[peer.name]) is not None
                and other_side[peer.session_id].seq_of(typed[peer.name]) is not None
                for peer in moving
            ) or any(peer.sync_errors or peer.refused for peer in moving)

        await until(everyone_back, timeout=120, what="every moved peer to sync and send")
        await asyncio.sleep(0.5)  # a late duplicate would show up here
        return moving, staying, typed
    finally:
        await asyncio.gather(*(peer.stop() for peer in peers))


def test_forty_sockets_of_a_killed_daphne_reconnect_at_once_and_send(stack_factory) -> None:
    stack = stack_factory(daphnes=2, SWITCHBOARD_CELERY_EAGER="0")
    pairs: list[tuple[ChatPeer, ChatPeer]] = []
    tickets: list[int] = []
    for number in range(CHATS):
        client = client_user(email=f"burst-client{number}@client.example")
        agent = AgentFactory(email=f"burst-agent{number}@example.com")
        tickets.append(TicketFactory(contact=client.contact, subject=f"Burst {number}").pk)
        # The client on A and the agent on B, then the other way round.
        client_at, agent_at = ("daphne", "daphne-b") if number % 2 == 0 else ("daphne-b", "daphne")
        options = {"snapshot": True, "request_timeout": BROWSER_REQUEST_TIMEOUT}
        pairs.append(
            (
                ChatPeer.on(stack, client_at, f"client{number}", session_cookie(client), **options),
                ChatPeer.on(stack, agent_at, f"agent{number}", session_cookie(agent), **options),
            )
        )
    moving, staying, typed = asyncio.run(
        asyncio.wait_for(kill_and_reconnect(stack, pairs, tickets), SCENARIO_TIMEOUT)
    )
    stack.check_alive("daphne-b", "celery")

    for peer in moving:
        # Back once, on the process that was left, with nothing refused or
        # given up on.
        assert peer.hellos == 2 and len(peer.close_codes) == 1, (peer.name, peer.close_codes)
        assert not peer.sync_errors and not peer.refused, (peer.name, peer.sync_errors)
        # Its page was restored: the chat is among its own in the snapshot
        # taken after the reconnect, and what it typed was stored and sent.
        mine = [session["id"] for session in peer.snapshots[-1]["mine"]]
        assert peer.session_id in mine, (peer.name, mine)
        seq = peer.acked[typed[peer.name]]
        assert peer.seq_of(typed[peer.name]) == seq
        other = next(p for p in staying if p.session_id == peer.session_id)
        assert other.seq_of(typed[peer.name]) == seq
        assert not peer.held and not other.held
    for peer in staying:
        assert peer.hellos == 1 and peer.close_codes == [], peer.name

    # Each typed message stored once, in the chat it was typed in.
    stored = Counter(
        str(client_id)
        for client_id in Message.objects.filter(kind=MessageKind.TEXT).values_list(
            "client_id", flat=True
        )
    )
    assert stored == Counter(typed.values())
    for peer in moving:
        row = Message.objects.get(client_id=typed[peer.name])
        assert row.session_id == peer.session_id
