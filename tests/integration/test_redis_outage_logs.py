"""What a daphne writes to its log while Redis is away, with many sockets open
and reconnecting all through the outage: one warning when Redis is lost and
one line when it is back, not a traceback per socket."""

from __future__ import annotations

import asyncio

from tests.integration.conftest import ChatPeer, Stack, session_cookie, until
from tests.personas import AGENT1, AGENT2, ALICE, BOB

SOCKETS = 40  # ten tabs each of two agents and two clients
SCENARIO_TIMEOUT = 45
OUTAGE_SECONDS = 3  # the tabs try to reconnect meanwhile (backoff up to 1 s)
LOST = "Redis is unreachable"  # realtime.outage's warning
BACK = "Redis is reachable again"


async def sockets_through_an_outage(stack: Stack, cookies: list[str]) -> list[ChatPeer]:
    tabs = [
        ChatPeer.on(stack, "daphne", f"tab{number}", cookies[number % len(cookies)])
        for number in range(SOCKETS)
    ]
    try:
        await asyncio.gather(*(tab.start() for tab in tabs))
        stack.kill("redis")
        await until(
            lambda: not any(tab.connected for tab in tabs),
            timeout=10,
            what="every socket to drop with Redis",
        )
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(stack.start_redis)
        await until(
            lambda: all(tab.connected and tab.hellos >= 2 for tab in tabs),
            timeout=20,
            what="every socket to come back",
        )
        return tabs
    finally:
        await asyncio.gather(*(tab.stop() for tab in tabs))


def test_an_outage_is_one_warning_and_one_recovery_line_not_a_traceback_per_socket(
    stack_factory,
) -> None:
    stack = stack_factory()
    cookies = [session_cookie(persona.create()) for persona in (AGENT1, AGENT2, ALICE, BOB)]
    tabs = asyncio.run(
        asyncio.wait_for(sockets_through_an_outage(stack, cookies), SCENARIO_TIMEOUT)
    )

    log = stack.log("daphne")
    assert sum(tab.hellos for tab in tabs) >= 2 * SOCKETS
    counts = {
        line: log.count(line) for line in ("Traceback", "Exception inside application", LOST, BACK)
    }
    assert counts == {
        "Traceback": 0,
        "Exception inside application": 0,
        LOST: 1,
        BACK: 1,
    }, log[-3000:]
    stack.check_alive()
