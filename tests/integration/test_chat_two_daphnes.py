"""Two daphne processes on one Redis: the client's socket is on daphne A, the
agent's on daphne B, so every page, join and message crosses the channel
layer between two processes (as behind a proxy with N daphnes)."""

from __future__ import annotations

import asyncio
from collections import Counter

from chat.models import ChatSession, Message, MessageKind
from tests.integration.conftest import (
    ChatPeer,
    Stack,
    make_chat_people,
    send_and_wait,
    session_cookie,
    start_chat,
    until,
)

SCENARIO_TIMEOUT = 40  # seconds, for everything after the stack is up
ROUNDS = 4  # one message each way per round, waiting for it to cross
BURST = 5  # then this many each way without waiting


async def chat_across_daphnes(
    stack: Stack, client_cookie: str, agent_cookie: str, ticket_id: int
) -> tuple[ChatPeer, ChatPeer, int]:
    client = ChatPeer.on(stack, "daphne", "alice", client_cookie)
    agent = ChatPeer.on(stack, "daphne-b", "agent", agent_cookie)
    try:
        await client.start()
        await agent.start()
        session_id = await start_chat(client, agent, ticket_id=ticket_id)

        # Ping-pong: each message reaches the other process before the reply.
        for number in range(ROUNDS):
            await send_and_wait(client, agent, f"A->B {number}")
            await send_and_wait(agent, client, f"B->A {number}")

        # Both at once: sends interleave in the database; seq decides the order.
        # Events from two processes may overtake each other (B commits seq n,
        # A commits n+1, A's broadcast lands first): the receiver holds n+1,
        # fetches n with chat.history and drops n's late event as a duplicate.
        for number in range(BURST):
            client.send(f"A burst {number}")
            agent.send(f"B burst {number}")
        everything = client.sent + agent.sent
        await until(
            lambda: all(p.settled and p.has_all(everything) for p in (client, agent)),
            timeout=15,
            what="every message on both sides",
        )
        # Nothing more trickles in (a late duplicate event would show up here).
        await asyncio.sleep(0.5)
        return client, agent, session_id
    finally:
        await client.stop()
        await agent.stop()


def test_client_on_daphne_a_and_agent_on_daphne_b_chat_both_ways(stack_factory) -> None:
    stack = stack_factory(daphnes=2, SWITCHBOARD_CELERY_EAGER="0")
    assert stack.ports["daphne"] != stack.ports["daphne-b"]
    people = make_chat_people()
    client, agent, session_id = asyncio.run(
        asyncio.wait_for(
            chat_across_daphnes(
                stack,
                session_cookie(people.client),
                session_cookie(people.agent),
                people.ticket.pk,
            ),
            SCENARIO_TIMEOUT,
        )
    )
    stack.check_alive()

    # The sockets really were on two processes and never reconnected.
    assert client.user is not None and client.user["id"] == people.client.pk
    assert agent.user is not None and agent.user["id"] == people.agent.pk
    assert (client.hellos, agent.hellos) == (1, 1)
    assert client.close_codes == [] and agent.close_codes == []
    assert not client.refused and not agent.refused

    # The agent on B was paged by the request made on A, exactly once.
    assert len(agent.frames_of("chat.incoming", id=session_id)) == 1
    assert len(agent.frames_of("queue.added", id=session_id)) == 1

    session = ChatSession.objects.get(pk=session_id)
    rows = list(Message.objects.filter(session=session).order_by("seq"))
    assert [m.seq for m in rows] == list(range(1, session.last_seq + 1))
    texts = [m for m in rows if m.kind == MessageKind.TEXT]
    everything = client.sent + agent.sent
    assert len(texts) == len(everything) == 2 * (ROUNDS + BURST)
    assert sorted(str(m.client_id) for m in texts) == sorted(everything)

    for peer, other in ((client, agent), (agent, client)):
        # Both sides hold the same conversation: every seq once, no gap.
        assert sorted(peer.messages) == list(range(1, session.last_seq + 1)), peer.name
        assert [m["client_id"] for m in peer.ordered()] == [str(m.client_id) for m in rows]
        # Each of the other side's messages crossed the channel layer between
        # the two processes as exactly one chat.message event ...
        event_seqs = [
            frame["message"]["seq"]
            for frame in peer.frames_of("chat.message")
            if frame["message"]["session_id"] == session_id
        ]
        events = Counter(event_seqs)
        for client_id in other.sent:
            seq = peer.seq_of(client_id)
            assert seq is not None
            assert events[seq] == 1, (peer.name, seq, events[seq])
        # ... and the ping-pong ones, sent one at a time, were shown from that
        # event (not from a replay), in increasing seq.
        serial = [peer.seq_of(client_id) for client_id in other.sent[:ROUNDS]]
        assert all(peer.via[seq] == "event" for seq in serial), (peer.name, peer.via)
        ping_pong = [seq for seq in event_seqs if seq <= max(serial)]
        assert ping_pong == sorted(set(ping_pong)), (peer.name, event_seqs)
        # A sender's messages keep the order in which they were sent.
        own = [peer.seq_of(client_id) for client_id in peer.sent]
        assert own == sorted(own), peer.name
        assert all(peer.acked[client_id] == peer.seq_of(client_id) for client_id in peer.sent)
