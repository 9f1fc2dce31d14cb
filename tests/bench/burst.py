"""The reconnect-burst benchmark: how long the sockets of a daphne process that
died wait, once they reconnected to the other process all at once, for what
the browser waits for before its first send goes out.

``measure_reconnect_burst_ms(database_url)`` runs it in a child process (its
own Django set-up and stack, so it can sit beside the chat benchmark of
``python -m tests.bench``) against a database of its own, rebuilt on every
run, as tests/bench/sweep.py does:

* ``database_url`` None (or any ``sqlite:`` URL): a fresh SQLite file
  var/bench/burst.sqlite3;
* a ``postgres://`` URL naming a database ``<name>``: a database
  ``<name>_burst`` on that server (dropped and created again; ``<name>`` is
  only used to connect).

The stack: a private redis-server and two daphne processes. ``sockets``
chats (40), each with a client and an agent (logged-in sessions, one chat
each, created through frames), the two sides of a chat on different
processes: ``sockets`` sockets on daphne 0, as many on daphne 1. Daphne 0 is
killed with SIGKILL and each of its sockets at once reconnects to daphne 1
and does what the browser does on ``hello`` (static/js/chat/console.js,
portal.js, presence.js, visitor_info.js, comments.js):

* an agent: ``presence.snapshot``, ``chat.snapshot``, ``chat.visitor`` and
  ``chat.comments`` for its open chat window, then ``chat.open`` (with its
  last ``seq``) for each chat the snapshot lists as its own, then
  ``chat.invitations``;
* a client: ``chat.snapshot``, then ``chat.open`` for each chat it lists,
  then ``chat.page_view`` for each;
* both: once a chat's ``chat.open`` reply is in (the browser holds new sends
  until then), the first ``chat.send``, acknowledged by ``chat.ack``.

Timed: from the moment the killed process is gone to the last of those
replies, over all the reconnecting sockets. Then daphne 0 is started again,
everything reconnects to its place, and the burst is repeated; the figure is
the median of ``runs``. Standalone: ``python -m tests.bench.burst
[--database-url URL] [--sockets N] [--runs N]`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.bench.stack import BASE_DIR, BENCH_DIR, Stack, log

SOCKETS = 40  # reconnecting at once (the figure)
# The steps of a reconnect, as logged: hello; the snapshot (with the frames
# sent beside it); every chat.open; the first send's ack (with the rest).
PHASES = ("hello", "chat.snapshot", "chat.open", "chat.ack")
RUNS = 5
BURST_SUFFIX = "_burst"
REPLY_TIMEOUT = 60.0  # seconds; the browser gives up after 15 (static/js/socket.js)


# --- parent: the database, then the child ------------------------------------------------


def _postgres_burst_url(database_url: str) -> str:
    """A fresh database ``<name>_burst`` beside the database ``<name>`` of
    ``database_url`` (``postgres_burst`` when it names none)."""
    import psycopg

    parts = urlsplit(database_url)
    admin_db = parts.path.lstrip("/") or "postgres"
    burst_db = admin_db + BURST_SUFFIX
    admin = urlunsplit(parts._replace(scheme="postgresql", path=f"/{admin_db}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{burst_db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{burst_db}"')
    return urlunsplit(parts._replace(path=f"/{burst_db}"))


def run_burst_benchmark(
    database_url: str | None,
    *,
    sockets: int = SOCKETS,
    runs: int = RUNS,
    settings_module: str = "config.settings.dev",
) -> dict[str, Any]:
    """Pick the database, run the child, return its result dict."""
    env = {**os.environ, "BENCH_SETTINGS": settings_module}
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"] = _postgres_burst_url(database_url)
    elif not database_url or database_url.startswith("sqlite:"):
        env.pop("DATABASE_URL", None)  # the child's Stack: var/bench/burst.sqlite3
    else:
        raise SystemExit("bench burst: DATABASE_URL must be a postgres:// URL (or unset: SQLite)")
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.burst", "--child"]
        + ["--sockets", str(sockets), "--runs", str(runs)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"reconnect-burst benchmark child exited with {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_reconnect_burst_ms(
    database_url: str | None, *, settings_module: str = "config.settings.dev"
) -> float:
    """``reconnect_burst_ms`` of the bench JSON line: median ms from the kill to
    the last reply of the reconnecting sockets."""
    result = run_burst_benchmark(database_url, settings_module=settings_module)
    return float(result["reconnect_burst_ms"])


# --- child: the sockets ----------------------------------------------------------------


class BurstError(RuntimeError):
    pass


@dataclass
class Person:
    """One browser tab: a client or an agent with one chat open."""

    name: str
    cookie: str
    agent: bool
    daphne: int  # the process it connects to when both run
    session_id: int = 0
    last_seq: int = 0
    ws: Any = None
    reader: asyncio.Task[None] | None = None
    waiters: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    # client_ids of chat.message events this socket read (the other side's sends).
    heard: set[str] = field(default_factory=set)
    # When (perf_counter) the last restore got past each step (PHASES).
    reached: dict[str, float] = field(default_factory=dict)
    refs: itertools.count[int] = field(default_factory=itertools.count)

    async def connect(self, url: str, origin: str) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            url,
            origin=origin,  # type: ignore[arg-type]
            additional_headers=[("Cookie", self.cookie)],
            compression=None,
            proxy=None,
            ping_interval=None,
            open_timeout=REPLY_TIMEOUT,
            close_timeout=2,
            max_queue=None,
        )
        hello = json.loads(await asyncio.wait_for(self.ws.recv(), REPLY_TIMEOUT))
        if hello.get("type") != "hello":
            raise BurstError(f"{self.name}: expected hello, got {hello}")
        self.reached["hello"] = time.perf_counter()
        self.reader = asyncio.get_running_loop().create_task(self._read(self.ws))

    async def _read(self, ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for text in ws:
                frame = json.loads(text)
                if frame.get("type") == "chat.message":
                    message = frame["message"]
                    self.last_seq = max(self.last_seq, message["seq"])
                    self.heard.add(message["client_id"])
                waiter = self.waiters.get(frame.get("ref"))
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
        for waiter in self.waiters.values():
            if not waiter.done():
                waiter.set_exception(BurstError(f"{self.name}: socket closed"))

    async def call(self, frame_type: str, **fields: Any) -> dict[str, Any]:
        ref = f"{self.name}-{next(self.refs)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiters[ref] = future
        try:
            await self.ws.send(json.dumps({"type": frame_type, "ref": ref, **fields}))
            reply = await asyncio.wait_for(future, REPLY_TIMEOUT)
        finally:
            self.waiters.pop(ref, None)
        if reply.get("type") == "error":
            raise BurstError(f"{self.name}: {frame_type} refused: {reply}")
        return reply

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        self.ws = self.reader = None

    # --- what the browser does on hello --------------------------------------------------
    async def restore(self) -> str:
        """The replies the browser waits for after a (re)connect, then its first
        send; returns that send's client_id once it is acknowledged."""
        hello_frames = []
        if self.agent:
            hello_frames = [
                self.call("presence.snapshot"),
                self.call("chat.visitor", session_id=self.session_id),
                self.call("chat.comments", session_id=self.session_id),
            ]
        snapshot, *_ = await asyncio.gather(self.call("chat.snapshot"), *hello_frames)
        self.reached["chat.snapshot"] = time.perf_counter()
        mine = [session["id"] for session in snapshot["mine"]]
        if self.session_id not in mine:
            raise BurstError(f"{self.name}: chat {self.session_id} not in its snapshot")
        states = await asyncio.gather(
            *(
                self.call("chat.open", session_id=session_id, last_seq=self.last_seq)
                for session_id in mine
            )
        )
        for state in states:
            for message in state["messages"]:
                self.last_seq = max(self.last_seq, message["seq"])
        self.reached["chat.open"] = time.perf_counter()
        client_id = str(uuid.uuid4())
        after = [self.call("chat.invitations")] if self.agent else []
        after += [
            self.call("chat.page_view", session_id=session_id, path="/portal/", title="Portal")
            for session_id in ([] if self.agent else mine)
        ]
        ack, *_ = await asyncio.gather(
            self.call(
                "chat.send",
                session_id=self.session_id,
                client_id=client_id,
                body=f"back again ({self.name})",
            ),
            *after,
        )
        if ack.get("type") != "chat.ack" or ack["client_id"] != client_id:
            raise BurstError(f"{self.name}: chat.send answered {ack}")
        self.last_seq = max(self.last_seq, ack["message"]["seq"])
        self.reached["chat.ack"] = time.perf_counter()
        return client_id


async def _create_chats(stack: Stack, people: list[Person], tickets: list[int]) -> None:
    """Each client asks to chat about its ticket and its agent joins, on their
    own sockets, a few chats at a time."""
    gate = asyncio.Semaphore(4)

    async def create(client: Person, agent: Person, ticket_id: int) -> None:
        async with gate:
            await client.connect(stack.ws_url(client.daphne), stack.origin(client.daphne))
            await agent.connect(stack.ws_url(agent.daphne), stack.origin(agent.daphne))
            state = await client.call("chat.request", kind="post_ticket", ticket_id=ticket_id)
            session_id = int(state["session"]["id"])
            joined = await agent.call("chat.join", session_id=session_id)
            if joined["session"]["status"] != "active":
                raise BurstError(f"chat {session_id} is {joined['session']['status']}")
            for person in (client, agent):
                person.session_id = session_id
                person.last_seq = int(joined["session"]["last_seq"])

    clients, agents = people[0::2], people[1::2]
    await asyncio.gather(
        *(create(c, a, t) for c, a, t in zip(clients, agents, tickets, strict=True))
    )


async def _settle(stack: Stack, people: list[Person]) -> None:
    """Everyone on its own process with its chat open; the server idle."""
    from tests.bench.load import wait_idle

    async def attach(person: Person) -> None:
        if person.ws is None:
            await person.connect(stack.ws_url(person.daphne), stack.origin(person.daphne))
            await person.call("chat.open", session_id=person.session_id, last_seq=person.last_seq)

    await asyncio.gather(*(attach(person) for person in people))
    await wait_idle(stack, what="before the burst")


@dataclass
class Burst:
    seconds: list[float]  # from the kill to each reconnecting socket's last reply
    # Per PHASES step: seconds from the kill until each socket got past it.
    phases: dict[str, list[float]]
    daphne_cpu: float  # seconds of CPU of the daphne that was left, until the last reply
    steal: float  # seconds of VM steal time meanwhile (docs/performance.md)


async def _burst(stack: Stack, people: list[Person]) -> Burst:
    """Kill daphne 0; its people reconnect to daphne 1 at once."""
    from tests.bench.load import steal_seconds
    from tests.bench.stack import cpu_seconds

    moving = [person for person in people if person.daphne == 0]
    staying = [person for person in people if person.daphne == 1]
    survivor = stack.processes["daphne-1"].pid
    stack.kill_daphne(0)
    started = time.perf_counter()
    cpu_before, steal_before = cpu_seconds(survivor), steal_seconds()
    for person in moving:
        if person.reader is not None:
            person.reader.cancel()
        person.ws = person.reader = None

    async def come_back(person: Person) -> tuple[float, str]:
        await person.connect(stack.ws_url(1), stack.origin(1))
        client_id = await person.restore()
        return time.perf_counter() - started, client_id

    results = await asyncio.gather(*(come_back(person) for person in moving))
    cpu, steal = cpu_seconds(survivor) - cpu_before, steal_seconds() - steal_before
    # Each first send reaches the other side of its chat (on daphne 1 all along).
    other = {person.session_id: person for person in staying}
    deadline = time.monotonic() + REPLY_TIMEOUT
    for person, (_, client_id) in zip(moving, results, strict=True):
        while client_id not in other[person.session_id].heard:
            if time.monotonic() > deadline:
                raise BurstError(f"{person.name}'s first send never reached the other side")
            await asyncio.sleep(0.01)
    phases = {
        phase: sorted(person.reached[phase] - started for person in moving) for phase in PHASES
    }
    return Burst([seconds for seconds, _ in results], phases, cpu, steal)


async def _run(stack: Stack, people: list[Person], tickets: list[int], runs: int) -> list[float]:
    await _create_chats(stack, people, tickets)
    log(f"burst: {len(people) // 2} chats created")
    figures: list[float] = []
    try:
        for number in range(runs):
            await _settle(stack, people)
            burst = await _burst(stack, people)
            times = sorted(burst.seconds)
            figures.append(times[-1] * 1000)
            log(
                f"burst {number + 1}/{runs}: {len(times)} sockets back, last reply after "
                f"{times[-1] * 1000:.0f} ms (median socket {statistics.median(times) * 1000:.0f} "
                f"ms); daphne CPU {burst.daphne_cpu * 1000:.0f} ms; VM steal time "
                f"{burst.steal:.2f} s; load average {os.getloadavg()[0]:.1f}; by step, "
                "median / last: "
                + ", ".join(
                    f"{phase} {statistics.median(seconds) * 1000:.0f} / {seconds[-1] * 1000:.0f}"
                    for phase, seconds in burst.phases.items()
                )
            )
            # Back to two processes: the moved sockets return to a new daphne 0.
            stack.restart_daphne(0)
            moved = [person for person in people if person.daphne == 0]
            await asyncio.gather(*(person.close() for person in moved))
    finally:
        await asyncio.gather(*(person.close() for person in people))
    return figures


def _child(sockets: int, runs: int) -> dict[str, Any]:
    from tests.bench import seed

    stack = Stack(
        daphne_count=2,
        settings_module=os.environ.get("BENCH_SETTINGS") or "config.settings.dev",
        sqlite_name="burst.sqlite3",
    )
    try:
        stack.configure()
        stack.start_redis()
        seed.setup_django()
        seed.migrate()
        # One chat per reconnecting socket: its client on one process, its
        # agent on the other, alternating, so each process has `sockets`.
        pairs, _ = seed.seed(sockets)
        from django.db import connections

        connections.close_all()
        stack.start_daphnes()
        people: list[Person] = []
        for pair in pairs:
            side = pair.index % 2
            people.append(Person(f"client{pair.index}", pair.client_cookie, False, side))
            people.append(Person(f"agent{pair.index}", pair.agent_cookie, True, 1 - side))
        log(
            f"burst: {stack.database}; {sockets} sockets on each of 2 daphne processes; {runs} runs"
        )
        tickets = [pair.ticket_id for pair in pairs]
        figures = asyncio.run(
            asyncio.wait_for(_run(stack, people, tickets, runs), 300 + 120 * runs)
        )
    finally:
        stack.stop()
    median = statistics.median(figures)
    log(
        "burst: "
        + ", ".join(f"{figure:.0f}" for figure in figures)
        + f" ms; median {median:.0f} ms"
    )
    return {
        "reconnect_burst_ms": round(median, 1),
        "runs_ms": [round(figure, 1) for figure in figures],
        "sockets": sockets,
        "database": stack.database,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.burst",
        description="Time the replies of sockets that reconnect all at once after their "
        "daphne process was killed.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="a postgres:// URL of a database NAME: a fresh database NAME_burst on that server; "
        "unset: a "
        "fresh SQLite file var/bench/burst.sqlite3 (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--sockets",
        type=int,
        default=SOCKETS,
        help=f"sockets reconnecting at once (default {SOCKETS})",
    )
    parser.add_argument("--runs", type=int, default=RUNS, help=f"bursts (default {RUNS})")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sockets < 2 or args.sockets % 2 or args.runs < 1:
        parser.error("--sockets must be an even number of at least 2, --runs positive")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if args.child:
        result = _child(args.sockets, args.runs)
    else:
        result = run_burst_benchmark(args.database_url, sockets=args.sockets, runs=args.runs)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
