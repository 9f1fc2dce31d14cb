"""A quiet chat after Redis was restarted: one message, nothing after it.

A receiver finds a lost event by the gap it leaves before the next message;
the last message of a quiet chat leaves none. It must still reach the other
side, without anybody writing again or reconnecting. The test loses the one
message's broadcast on purpose, in two ways:

- ``connection``: after a Redis restart a daphne's first sends can fail on
  connections that did not survive it ("Connection closed by server"). Redis
  holds writes (``CLIENT PAUSE ... WRITE``) while the message is sent and the
  connection carrying its broadcast is killed. daphne's outbox sends it again
  (realtime.broadcast), or the heartbeat shows the gap.
- ``refused``: Redis refuses the send (its user may not run the layer's
  script), which no second try mends: only the heartbeat's pong, naming the
  chat's last seq (chat/frames/heartbeat.py), brings it, by ``chat.history``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis

from tests.integration.conftest import (
    ChatPeer,
    Stack,
    make_chat_people,
    send_and_wait,
    session_cookie,
    start_chat,
    until,
)

SCENARIO_TIMEOUT = 45  # seconds, for everything after the stack is up
HEARTBEAT_SECONDS = 1  # the browsers' ping interval (hello.heartbeat_seconds)
ARRIVAL_SECONDS = 10  # the quiet chat's last message reaches the other side within
LAST_WORD = "the printer is on fire again"


def admin(stack: Stack) -> redis.Redis:
    return redis.Redis(unix_socket_path=str(stack.redis_socket), socket_timeout=5)


def broadcasts_waiting(stack: Stack) -> list[dict[str, Any]]:
    """Channel-layer connections (db 0; Celery's broker is db 1) held by the
    pause with a group send (the layer's script) in hand."""
    return [
        client
        for client in admin(stack).client_list()
        if client["db"] == "0" and client["cmd"] in ("evalsha", "eval") and "b" in client["flags"]
    ]


async def send_on_a_dying_connection(stack: Stack, client: ChatPeer) -> str:
    admin(stack).execute_command("CLIENT", "PAUSE", 10_000, "WRITE")
    try:
        last_word = client.send(LAST_WORD)
        await until(lambda: last_word in client.acked, timeout=10, what="the ack")
        waiting = await until(
            lambda: broadcasts_waiting(stack), timeout=5, what="its broadcast to wait"
        )
        for connection in waiting:
            admin(stack).client_kill_filter(_id=connection["id"])
    finally:
        admin(stack).execute_command("CLIENT", "UNPAUSE")
    return last_word


async def send_while_redis_refuses_group_sends(stack: Stack, client: ChatPeer) -> str:
    # The layer's group send is a script: Redis answers NOPERM while its
    # default user may not run scripts.
    admin(stack).execute_command("ACL", "SETUSER", "default", "-evalsha", "-eval")
    try:
        last_word = client.send(LAST_WORD)
        await until(lambda: last_word in client.acked, timeout=10, what="the ack")
        await until(
            lambda: "broadcast of chat.message to chat." in stack.log("daphne"),
            timeout=5,
            what="its broadcast to be refused",
        )
    finally:
        admin(stack).execute_command("ACL", "SETUSER", "default", "+evalsha", "+eval")
    return last_word


LoseBroadcast = Callable[[Stack, ChatPeer], Awaitable[str]]


async def last_word_after_a_restart(
    stack: Stack, client_cookie: str, agent_cookie: str, ticket_id: int, lose: LoseBroadcast
) -> tuple[ChatPeer, ChatPeer, str]:
    client = ChatPeer.on(stack, "daphne", "alice", client_cookie)
    agent = ChatPeer.on(stack, "daphne-b", "agent", agent_cookie)
    try:
        await client.start()
        await agent.start()
        await start_chat(client, agent, ticket_id=ticket_id)
        await send_and_wait(client, agent, "hello")
        await send_and_wait(agent, client, "hi, how can I help?")

        stack.kill("redis")
        await until(
            lambda: not client.connected and not agent.connected,
            timeout=10,
            what="both sockets to drop with Redis",
        )
        await asyncio.to_thread(stack.start_redis)
        await until(
            lambda: client.hellos >= 2 and agent.hellos >= 2 and client.settled and agent.settled,
            timeout=15,
            what="both sides to reconnect",
        )

        last_word = await lose(stack, client)
        await until(
            lambda: agent.seq_of(last_word),
            timeout=ARRIVAL_SECONDS,
            what="the last word to reach the agent with nothing sent after it",
        )
        # Nobody wrote or reconnected meanwhile.
        assert client.sent[-1] == last_word and len(agent.sent) == 1
        assert client.hellos == 2 and agent.hellos == 2
        return client, agent, last_word
    finally:
        await client.stop()
        await agent.stop()


@pytest.mark.parametrize(
    ("lose", "arrives_by"),
    [
        (send_on_a_dying_connection, ("event", "history")),
        (send_while_redis_refuses_group_sends, ("history",)),
    ],
    ids=["connection", "refused"],
)
def test_the_last_message_after_a_redis_restart_reaches_the_other_side(
    stack_factory, lose: LoseBroadcast, arrives_by: tuple[str, ...]
) -> None:
    stack = stack_factory(daphnes=2, SWITCHBOARD_PRESENCE_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS))
    people = make_chat_people()
    client, agent, last_word = asyncio.run(
        asyncio.wait_for(
            last_word_after_a_restart(
                stack,
                session_cookie(people.client),
                session_cookie(people.agent),
                people.ticket.pk,
                lose,
            ),
            SCENARIO_TIMEOUT,
        )
    )
    seq = agent.seq_of(last_word)
    assert seq == client.acked[last_word]
    # Once: by the event sent again, or by the gap the heartbeat showed.
    assert agent.via[seq] in arrives_by, agent.via[seq]
    stack.check_alive()
