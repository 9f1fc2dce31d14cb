"""Redis killed and restarted mid-chat (same socket, empty: no persistence).

The channel layer loses whatever it held (events in flight, group
memberships); daphne closes the sockets whose consumers lost Redis, the
clients reconnect by themselves and replay by seq from the database. Nothing
acknowledged, and nothing typed, may be lost or doubled.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass

from chat.models import ChatSession, Message, MessageKind
from tests.integration.conftest import (
    ChatPeer,
    Stack,
    make_chat_people,
    send_and_wait,
    session_cookie,
    start_chat,
    until,
    wait_until,
)

SCENARIO_TIMEOUT = 40  # seconds, for everything after the stack is up
OUTAGE_SENDS = 4  # each side, while Redis is down
SEND_INTERVAL = 0.3
AFTER_SENDS = 3  # each side, once Redis is back


@dataclass
class Outcome:
    client: ChatPeer
    agent: ChatPeer
    session_id: int
    before_kill: str  # client_id of the message acked right before the kill
    celery_log_at_restart: int


async def chat_through_a_redis_restart(
    stack: Stack, client_cookie: str, agent_cookie: str, ticket_id: int
) -> Outcome:
    client = ChatPeer.on(stack, "daphne", "alice", client_cookie)
    agent = ChatPeer.on(stack, "daphne-b", "agent", agent_cookie)
    try:
        await client.start()
        await agent.start()
        session_id = await start_chat(client, agent, ticket_id=ticket_id)

        for number in range(2):
            await send_and_wait(client, agent, f"before {number}")
            await send_and_wait(agent, client, f"answer {number}")

        # A message the server acknowledges but whose event dies with Redis:
        # daphne B is paused, so the event waits in Redis for a reader that
        # comes back only after Redis was killed.
        stack.pause("daphne-b")
        try:
            before_kill = client.send("sent right before the kill")
            await until(lambda: before_kill in client.acked, timeout=10, what="the ack on A")
            stack.kill("redis")
        finally:
            stack.resume("daphne-b")

        # The outage: both sides keep typing. Their sockets drop (each consumer
        # loses its Redis connection), reconnects fail until Redis is back, so
        # what they send waits in the outbox.
        for number in range(OUTAGE_SENDS):
            client.send(f"client during outage {number}")
            agent.send(f"agent during outage {number}")
            await asyncio.sleep(SEND_INTERVAL)
        await until(
            lambda: not client.connected and not agent.connected,
            timeout=10,
            what="both sockets to drop while Redis is down",
        )
        assert client.outbox and agent.outbox, "sends during the outage wait in the outbox"
        stack.check_alive("daphne", "daphne-b", "celery")

        celery_log_at_restart = len(stack.log("celery"))
        await asyncio.to_thread(stack.start_redis)

        for number in range(AFTER_SENDS):
            client.send(f"client after restart {number}")
            agent.send(f"agent after restart {number}")
            await asyncio.sleep(SEND_INTERVAL)

        everything = client.sent + agent.sent
        await until(
            lambda: all(p.settled and p.has_all(everything) for p in (client, agent)),
            timeout=20,
            what="both sides to reconnect and hold every message",
        )
        # A resend of an acknowledged message (a tab that never saw the ack)
        # gets the stored message back; nothing is stored or broadcast again.
        again = await client.request(
            {
                "type": "chat.send",
                "session_id": session_id,
                "client_id": before_kill,
                "body": "sent right before the kill",
            }
        )
        assert again["type"] == "chat.ack" and again["created"] is False, again
        assert again["message"]["seq"] == client.acked[before_kill]
        # The layer works again for live events after the restart.
        live = agent.send("live after the restart")
        await until(lambda: client.seq_of(live), timeout=10, what="a live message after restart")
        assert client.via[client.seq_of(live)] == "event"
        await asyncio.sleep(0.5)  # a late duplicate would show up here
        return Outcome(client, agent, session_id, before_kill, celery_log_at_restart)
    finally:
        await client.stop()
        await agent.stop()


def test_redis_restart_mid_chat_loses_and_doubles_nothing(stack_factory) -> None:
    stack = stack_factory(
        daphnes=2,
        SWITCHBOARD_CELERY_EAGER="0",  # beat publishes, the worker consumes
        SWITCHBOARD_SWEEP_SECONDS="1",
    )
    people = make_chat_people()
    started = time.monotonic()
    outcome = asyncio.run(
        asyncio.wait_for(
            chat_through_a_redis_restart(
                stack,
                session_cookie(people.client),
                session_cookie(people.agent),
                people.ticket.pk,
            ),
            SCENARIO_TIMEOUT,
        )
    )
    client, agent, session_id = outcome.client, outcome.agent, outcome.session_id

    # daphne A, daphne B and the worker lived through it (channels_redis and
    # kombu reconnected): both sides came back on the same processes.
    stack.check_alive()
    assert client.hellos >= 2 and agent.hellos >= 2, (client.hellos, agent.hellos)
    assert client.close_codes and agent.close_codes
    assert not client.refused and not agent.refused, (client.refused, agent.refused)

    # The database: one row per client_id, seqs without a gap.
    session = ChatSession.objects.get(pk=session_id)
    rows = list(Message.objects.filter(session=session).order_by("seq"))
    assert [m.seq for m in rows] == list(range(1, session.last_seq + 1))
    everything = client.sent + agent.sent
    texts = Counter(str(m.client_id) for m in rows if m.kind == MessageKind.TEXT)
    assert set(texts) == set(everything)
    assert all(count == 1 for count in texts.values()), texts.most_common(3)
    assert len(everything) == 4 + 1 + 2 * (OUTAGE_SENDS + AFTER_SENDS) + 1

    for peer in (client, agent):
        # Every message, acknowledged or typed into the outbox, exactly once
        # and in seq order, the same conversation as the database.
        assert sorted(peer.messages) == list(range(1, session.last_seq + 1)), peer.name
        assert [m["client_id"] for m in peer.ordered()] == [str(m.client_id) for m in rows]
        assert set(peer.acked) == set(peer.sent), peer.name
        # Each sender's messages keep the order it sent them in.
        own = [peer.seq_of(client_id) for client_id in peer.sent]
        assert own == sorted(own), (peer.name, own)

    # The message acked right before the kill, while daphne B was paused: its
    # event either died with Redis (then the agent got it from the replay on
    # reconnect) or was already on its way to B's reader (realtime/layer.py
    # keeps a read pending, and Redis had written the answer into B's socket
    # before it was killed). Either way the agent has it once, and the resend
    # of it added no event.
    seq = agent.seq_of(outcome.before_kill)
    assert seq == client.acked[outcome.before_kill]
    events = [f for f in agent.frames_of("chat.message") if f["message"]["seq"] == seq]
    if agent.via[seq] == "event":
        assert len(events) == 1, events
    else:
        assert agent.via[seq] in ("state", "history"), agent.via[seq]
        assert not events, "the event died with Redis; the resend sent none"

    # The worker is connected to the new Redis: beat's ticks are consumed again.
    def sweep_after_restart() -> bool:
        tail = stack.log("celery")[outcome.celery_log_at_restart :]
        return bool(re.search(r"Task presence\.tasks\.sweep\[[^\]]+\] succeeded", tail))

    wait_until(
        sweep_after_restart,
        timeout=max(5.0, 50 - (time.monotonic() - started)),
        what="the worker to run a beat tick after the restart",
    )
    stack.check_alive()
