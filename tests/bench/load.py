"""The websocket side of the benchmark: open sockets, create chats through
frames, send at a fixed total rate, and record what the other side receives.

Latency is measured in this one process (one clock): from just before a
``chat.send`` frame is written to the moment the *other* participant's socket
reads the ``chat.message`` event with the same ``client_id``. The baseline
does the same through the bare echo consumer (realtime/echo.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import heapq
import json
import math
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.bench.seed import Pair
from tests.bench.stack import Stack, log

# Frames of the setup flood (every staff socket hears every request and join)
# are recognised without decoding them.
_QUEUE_MARK = '"type":"queue.'
_FILLER = "The printer on the third floor prints blank pages again. "


def _body(k: int) -> str:
    return f"#{k} {_FILLER}"


class BenchError(RuntimeError):
    pass


# --- Recording -----------------------------------------------------------------
class Sent:
    __slots__ = (
        "at",
        "sender",
        "receiver",
        "acked",
        "refused",
        "received",
        "acked_at",
        "received_at",
    )

    def __init__(self, at: float, sender: int, receiver: int) -> None:
        self.at = at
        self.sender = sender
        self.receiver = receiver
        self.acked = False
        self.refused = False
        self.received = 0  # copies read by the receiver socket
        # For --trace: when the ack and the first copy were read (perf_counter).
        self.acked_at: float | None = None
        self.received_at: float | None = None


@dataclass
class Recorder:
    messages: dict[str, Sent] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    duplicated: int = 0
    own_copies: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    unexpected_closes: Counter[str] = field(default_factory=Counter)
    # Last time a socket read anything but a pong, a chat message or an ack.
    last_other_frame_at: float = 0.0
    setup_frames: int = 0

    def register(self, client_id: str, sender: int, receiver: int) -> None:
        self.messages[client_id] = Sent(time.perf_counter(), sender, receiver)

    def on_message(self, socket_index: int, client_id: str, now: float) -> None:
        sent = self.messages.get(client_id)
        if sent is None:  # a system line ("... joined the chat"), not ours
            return
        if socket_index == sent.sender:
            self.own_copies += 1
            return
        if socket_index != sent.receiver:
            self.errors["delivered to a stranger"] += 1
            return
        sent.received += 1
        if sent.received == 1:
            sent.received_at = now
            self.latencies.append((now - sent.at) * 1000.0)
        else:
            self.duplicated += 1

    def on_ack(self, client_id: str) -> None:
        sent = self.messages.get(client_id)
        if sent is not None:
            sent.acked = True
            sent.acked_at = time.perf_counter()

    def on_error(self, frame: dict[str, Any]) -> None:
        self.errors[str(frame.get("code"))] += 1
        sent = self.messages.get(str(frame.get("ref")))
        if sent is not None:
            sent.refused = True

    @property
    def sent(self) -> int:
        return len(self.messages)

    @property
    def received(self) -> int:
        return len(self.latencies)

    @property
    def outstanding(self) -> int:
        """Messages not refused that the other side has not read yet."""
        return sum(1 for m in self.messages.values() if not m.received and not m.refused)

    @property
    def refused(self) -> int:
        return sum(1 for m in self.messages.values() if m.refused)

    @property
    def unacked(self) -> int:
        return sum(1 for m in self.messages.values() if not m.acked and not m.refused)

    def write_trace(self, path: str) -> None:
        """One line per message, in sending order: seconds since the first send,
        sender and receiver socket, ms to the ack and to the other side's copy
        (empty when none came). Shows whether a slow message waited for its own
        send (ack late too) or for the relay, and whether slow ones cluster in time."""
        if not self.messages:
            return
        start = min(sent.at for sent in self.messages.values())

        def ms(at: float | None, sent: Sent) -> str:
            return "" if at is None else f"{(at - sent.at) * 1000.0:.2f}"

        with open(path, "w", encoding="utf-8") as out:
            out.write("t_s,sender,receiver,ack_ms,delivery_ms\n")
            for sent in sorted(self.messages.values(), key=lambda sent: sent.at):
                out.write(
                    f"{sent.at - start:.4f},{sent.sender},{sent.receiver},"
                    f"{ms(sent.acked_at, sent)},{ms(sent.received_at, sent)}\n"
                )

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return ordered[rank - 1]


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    """The benchmark client's garbage collector off while measuring: each of
    its pauses delays reading what has arrived, which counts as latency.

    A phase allocates a few MB that reference counting does not free. With the
    collector on, the client paused for up to 130 ms (a full collection walking
    a thousand sockets and their buffers), and still for up to 16 ms with what
    existed before frozen, as many milliseconds added to the messages that
    were arriving (docs/performance.md, "Client without garbage collection")."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def steal_seconds() -> float:
    """CPU time the hypervisor gave to other guests (all vCPUs, /proc/stat)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


# --- Sockets --------------------------------------------------------------------
@dataclass(eq=False)
class Sock:
    index: int
    ws: ClientConnection
    waiters: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    closing: bool = False

    async def call(self, frame: dict[str, Any], ref: str, timeout: float) -> dict[str, Any]:
        """Send a frame with ``ref`` and wait for the reply carrying it."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiters[ref] = future
        try:
            await self.ws.send(json.dumps({**frame, "ref": ref}))
            reply = await asyncio.wait_for(future, timeout)
        finally:
            self.waiters.pop(ref, None)
        if reply.get("type") == "error":
            raise BenchError(f"{frame['type']} refused: {reply}")
        return reply


# Handshakes the server refused or dropped, retried like a browser would.
handshake_failures: Counter[str] = Counter()


async def _open(url: str, origin: str, cookie: str | None, timeout: float) -> ClientConnection:
    attempt = 0
    while True:
        attempt += 1
        try:
            return await connect(
                url,
                origin=origin,  # type: ignore[arg-type]
                additional_headers=[("Cookie", cookie)] if cookie else None,
                compression=None,
                proxy=None,
                ping_interval=None,  # daphne pings idle sockets; we answer
                open_timeout=timeout,
                close_timeout=5,
                max_size=4 * 1024 * 1024,
                max_queue=None,
            )
        except (InvalidStatus, OSError, TimeoutError) as exc:
            reason = str(exc.response.status_code) if isinstance(exc, InvalidStatus) else ""
            handshake_failures[f"{type(exc).__name__} {reason}".strip()] += 1
            if attempt >= 5:
                raise
            await asyncio.sleep(0.5 * attempt + random.random())


async def _read_chat(sock: Sock, recorder: Recorder) -> None:
    try:
        async for text in sock.ws:
            now = time.perf_counter()
            if _QUEUE_MARK in text:
                recorder.setup_frames += 1
                recorder.last_other_frame_at = now
                continue
            frame = json.loads(text)
            kind = frame.get("type")
            if kind == "chat.message":
                recorder.on_message(sock.index, frame["message"]["client_id"], now)
                continue
            if kind == "chat.ack":
                recorder.on_ack(frame["client_id"])
                continue
            if kind == "pong":
                continue
            recorder.last_other_frame_at = now
            ref = frame.get("ref")
            waiter = sock.waiters.get(ref) if isinstance(ref, str) else None
            if waiter is not None and not waiter.done():
                waiter.set_result(frame)
            elif kind == "error":
                recorder.on_error(frame)
            else:
                recorder.setup_frames += 1
    except Exception as exc:  # connection dropped
        if not sock.closing:
            recorder.unexpected_closes[type(exc).__name__] += 1
    finally:
        if not sock.closing and sock.ws.close_code not in (None, 1000):
            recorder.unexpected_closes[f"close {sock.ws.close_code}"] += 1
        for waiter in sock.waiters.values():
            if not waiter.done():
                waiter.set_exception(BenchError(f"socket {sock.index} closed"))


async def _read_echo(sock: Sock, recorder: Recorder) -> None:
    try:
        async for text in sock.ws:
            now = time.perf_counter()
            frame = json.loads(text)
            recorder.on_message(sock.index, frame["client_id"], now)
    except Exception as exc:
        if not sock.closing:
            recorder.unexpected_closes[type(exc).__name__] += 1


async def close_all(socks: Sequence[Sock], *, timeout: float = 60) -> None:
    semaphore = asyncio.Semaphore(100)

    async def close(sock: Sock) -> None:
        sock.closing = True
        async with semaphore:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sock.ws.close(), 10)
        if sock.reader is not None:
            sock.reader.cancel()

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(close(s) for s in socks)), timeout)


# --- Waiting for the server ---------------------------------------------------------
async def wait_idle(
    stack: Stack,
    recorder: Recorder | None = None,
    *,
    quiet: float = 1.5,
    cpu_below: float = 0.15,
    timeout: float = 180,
    what: str = "",
) -> float:
    """Wait until daphne uses little CPU and (if given) no setup frames arrived
    for ``quiet`` seconds; returns the seconds waited."""
    started = time.monotonic()
    last = stack.daphne_cpu()
    idle_since: float | None = None
    while True:
        await asyncio.sleep(0.5)
        stack.check_alive()
        now_cpu = stack.daphne_cpu()
        busy = (now_cpu - last) / 0.5 / max(1, len(stack.daphne_pids))
        last = now_cpu
        frames_quiet = recorder is None or (
            time.perf_counter() - recorder.last_other_frame_at >= quiet
        )
        if busy < cpu_below and frames_quiet:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= quiet:
                return time.monotonic() - started
        else:
            idle_since = None
        if time.monotonic() - started > timeout:
            log(f"warning: server not idle after {timeout:.0f} s ({what}; cpu {busy:.0%})")
            return time.monotonic() - started


# --- Sending at a fixed rate -------------------------------------------------------------
Route = tuple[Sock, Sock, Callable[[str, int], str]]


@dataclass
class SendPlan:
    rate: float
    duration: float
    # (sender socket, receiver socket, frame builder(client_id, k) -> text)
    routes: list[Route]
    # The number of the first message: a slice of an interleaved run goes on
    # where the previous slice of its kind stopped (routes and bodies).
    first: int = 0
    # Messages to send; None: rate x duration.
    count: int | None = None


async def send_at_rate(plan: SendPlan, recorder: Recorder, label: str) -> dict[str, float]:
    """Open-loop: message k is due at t0 + k / rate whatever happened before.
    Routes are used round-robin, so with N chats and routes [c0->a0, a0->c0,
    ...] ordered by turn, each socket sends every 2N / rate seconds."""
    total = plan.count if plan.count is not None else int(plan.rate * plan.duration)
    interval = 1.0 / plan.rate
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2
    max_lag = 0.0
    next_report = t0 + 5
    for k in range(plan.first, plan.first + total):
        due = t0 + (k - plan.first) * interval
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            max_lag = max(max_lag, -delay)
        sender, receiver, build = plan.routes[k % len(plan.routes)]
        client_id = str(uuid.uuid4())
        text = build(client_id, k)
        recorder.register(client_id, sender.index, receiver.index)
        try:
            await sender.ws.send(text)
        except Exception as exc:
            recorder.errors[f"send failed: {type(exc).__name__}"] += 1
        if loop.time() >= next_report:
            next_report += 5
            log(
                f"{label}: {k + 1 - plan.first}/{total} sent, {recorder.received} received, "
                f"p50 {recorder.percentile(0.5):.1f} ms, p99 {recorder.percentile(0.99):.1f} ms"
            )
    elapsed = loop.time() - t0
    return {"send_seconds": elapsed, "max_lag_ms": max_lag * 1000}


async def drain(recorder: Recorder, timeout: float) -> float:
    started = time.monotonic()
    while recorder.outstanding and time.monotonic() - started < timeout:
        await asyncio.sleep(0.05)
    return time.monotonic() - started


# --- Chat phase ---------------------------------------------------------------------------
@dataclass
class Chat:
    pair: Pair
    client: Sock | None = None
    agent: Sock | None = None
    session_id: int = 0
    last_seq: int = 0


class Heartbeats:
    """What the browser does (static/js/socket.js): a ``ping`` frame every
    ``heartbeat_seconds`` per socket. Phases are random, as they are for
    browsers that connected at different times."""

    def __init__(self, period: float) -> None:
        self.period = period
        self._heap: list[tuple[float, int, Sock]] = []
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    def add(self, sock: Sock) -> None:
        due = time.monotonic() + random.uniform(0, self.period)
        heapq.heappush(self._heap, (due, sock.index, sock))

    async def _run(self) -> None:
        while True:
            now = time.monotonic()
            while self._heap and self._heap[0][0] <= now:
                due, index, sock = heapq.heappop(self._heap)
                if sock.closing:
                    continue
                with contextlib.suppress(Exception):
                    await sock.ws.send('{"type":"ping"}')
                    self.sent += 1
                heapq.heappush(self._heap, (due + self.period, index, sock))
            await asyncio.sleep(0.05)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


@dataclass
class Load:
    """One kind of traffic on its open sockets: what a measurement slice sends
    (``routes``), where the replies are recorded, and its own running totals
    over the slices."""

    label: str
    recorder: Recorder
    sockets: list[Sock]
    routes: list[Route]
    sent: int = 0  # the next message's number (SendPlan.first)
    send_seconds: float = 0.0
    max_lag_ms: float = 0.0
    daphne_cpu: float = 0.0
    user_cpu: float = 0.0
    system_cpu: float = 0.0
    redis_cpu: float = 0.0
    steal: float = 0.0
    window: float = 0.0
    heartbeats: Heartbeats | None = None

    async def close(self) -> None:
        if self.heartbeats is not None:
            self.heartbeats.stop()
        log(f"{self.label}: closing {len(self.sockets)} sockets")
        await close_all(self.sockets)

    def report(self) -> None:
        per_message = 1000 * self.daphne_cpu / max(1, self.recorder.sent)
        window = max(self.window, 1e-9)
        beats = f"; heartbeats sent {self.heartbeats.sent}" if self.heartbeats else ""
        log(
            f"{self.label}: daphne CPU {self.daphne_cpu / window:.0%} of one core "
            f"({per_message:.2f} ms per message; user {self.user_cpu:.1f} s, system "
            f"{self.system_cpu:.1f} s), redis {self.redis_cpu / window:.0%}; sender lag max "
            f"{self.max_lag_ms:.1f} ms; VM steal time {self.steal:.2f} s{beats}"
        )


async def measure(
    stack: Stack,
    loads: Sequence[Load],
    *,
    rate: float,
    duration: float,
    rounds: int,
    drain_seconds: float,
) -> None:
    """Send ``duration`` seconds of each load at ``rate``, in ``rounds`` rounds
    of one slice per load. The VM's speed drifts by 20 % or more within a
    minute here (docs/performance.md, "Interleaved baseline"), so a chat
    phase and a baseline phase one after the other compare two different
    machines; slices taken in turn share the drift. The order alternates
    (A B, B A, A B...) so neither load always runs first. After a slice its
    last messages are given up to a second to arrive before the next slice
    starts (a slower tail runs into the next slice, and its CPU is counted
    there). Each load sends int(rate * duration) messages in all, spread over
    the slices."""
    total = int(rate * duration)
    with collector_off():
        for round_number in range(rounds):
            ordered = loads if round_number % 2 == 0 else list(reversed(loads))
            # This round's share of the messages, so no remainder is dropped.
            count = total * (round_number + 1) // rounds - total * round_number // rounds
            for load in ordered:
                cpu_before, redis_before = stack.daphne_cpu(), stack.redis_cpu()
                user_before, system_before = stack.daphne_cpu_split()
                steal_before = steal_seconds()
                plan = SendPlan(rate, count / rate, load.routes, first=load.sent, count=count)
                timing = await send_at_rate(plan, load.recorder, load.label)
                last = round_number == rounds - 1
                drained = await drain(load.recorder, drain_seconds if last else 1.0)
                load.sent += count
                load.send_seconds += timing["send_seconds"]
                load.window += timing["send_seconds"] + drained
                load.max_lag_ms = max(load.max_lag_ms, timing["max_lag_ms"])
                load.daphne_cpu += stack.daphne_cpu() - cpu_before
                load.redis_cpu += stack.redis_cpu() - redis_before
                user_after, system_after = stack.daphne_cpu_split()
                load.user_cpu += user_after - user_before
                load.system_cpu += system_after - system_before
                load.steal += steal_seconds() - steal_before
    for load in loads:
        # Messages of an early slice that only arrived later are counted, not lost.
        await drain(load.recorder, drain_seconds)
        load.report()


async def open_chats(
    stack: Stack,
    pairs: Sequence[Pair],
    *,
    ramp: float,
    setup_concurrency: int,
    heartbeat: bool,
) -> tuple[Load, dict[str, float]]:
    """The chats, created through frames, and their measured sockets open; the
    load and the daphne memory readings (KB) after creating and after opening."""
    recorder = Recorder()
    chats = [Chat(pair) for pair in pairs]
    sockets: list[Sock] = []
    heartbeat_period = 20.0
    beats: Heartbeats | None = None
    connect_gate = asyncio.Semaphore(100)
    create_gate = asyncio.Semaphore(setup_concurrency)
    created = 0

    async def open_socket(index: int, daphne: int, cookie: str, *, keep: bool = True) -> Sock:
        nonlocal heartbeat_period, beats
        async with connect_gate:
            ws = await _open(stack.ws_url(daphne), stack.origin(daphne), cookie, 60)
            hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if hello.get("type") != "hello":
            raise BenchError(f"socket {index}: expected hello, got {hello}")
        sock = Sock(index, ws)
        sock.reader = asyncio.get_running_loop().create_task(_read_chat(sock, recorder))
        if not keep:
            return sock
        sockets.append(sock)
        if heartbeat:
            if beats is None:
                heartbeat_period = float(hello.get("heartbeat_seconds") or 20)
                beats = Heartbeats(heartbeat_period)
                beats.start()
            beats.add(sock)
        return sock

    async def create(chat: Chat) -> None:
        """Step 1, on short-lived sockets: the client requests, the agent joins."""
        nonlocal created
        i = chat.pair.index
        async with create_gate:
            client = await open_socket(-1, i, chat.pair.client_cookie, keep=False)
            agent = await open_socket(-1, i + 1, chat.pair.agent_cookie, keep=False)
            try:
                state = await client.call(
                    {
                        "type": "chat.request",
                        "kind": "post_ticket",
                        "ticket_id": chat.pair.ticket_id,
                    },
                    f"request-{i}",
                    120,
                )
                chat.session_id = int(state["session"]["id"])
                joined = await agent.call(
                    {"type": "chat.join", "session_id": chat.session_id}, f"join-{i}", 120
                )
            finally:
                await close_all([client, agent])
        if joined["session"]["status"] != "active":
            raise BenchError(f"chat {i} is {joined['session']['status']} after join")
        chat.last_seq = int(joined["session"]["last_seq"])
        created += 1
        if created % 100 == 0 or created == len(chats):
            log(f"chat: {created}/{len(chats)} chats created")

    async def attach(chat: Chat) -> None:
        """Step 2: the measured sockets connect on the ramp and open their chat,
        as browsers do after a reconnect (chat.open with their last seq)."""
        i = chat.pair.index
        for side in (0, 1):
            index = 2 * i + side
            await asyncio.sleep(max(0.0, t0 + index * step - time.monotonic()))
            cookie = chat.pair.agent_cookie if side else chat.pair.client_cookie
            sock = await open_socket(index, i + side, cookie)
            state = await sock.call(
                {"type": "chat.open", "session_id": chat.session_id, "last_seq": chat.last_seq},
                f"open-{index}",
                120,
            )
            if state.get("type") != "chat.state":
                raise BenchError(f"chat.open of socket {index} answered {state}")
            if side:
                chat.agent = sock
            else:
                chat.client = sock

    total_sockets = 2 * len(chats)
    step = ramp / total_sockets if ramp > 0 else 0.0
    log(
        f"chat: creating {len(chats)} chats (chat.request + chat.join, on short-lived "
        f"sockets, {setup_concurrency} at a time)"
    )
    setup_started = time.monotonic()
    load = Load("chat", recorder, sockets, [])
    try:
        await asyncio.wait_for(asyncio.gather(*(create(c) for c in chats)), timeout=900)
        create_seconds = time.monotonic() - setup_started
        await wait_idle(stack, recorder, what="after creating the chats")
        rss_created = stack.daphne_rss_kb()
        log(
            f"chat: {len(chats)} chats created in {create_seconds:.1f} s; daphne RSS "
            f"{rss_created / 1024:.1f} MiB; opening {total_sockets} sockets over {ramp:.0f} s "
            "(chat.open on each)"
        )
        t0 = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(attach(c) for c in chats)), timeout=ramp + 600)
        setup_seconds = time.monotonic() - setup_started
        log(
            f"chat: {len(sockets)} sockets open and subscribed "
            f"{time.monotonic() - t0:.1f} s after the first; waiting for the server to settle"
        )
        waited = await wait_idle(stack, recorder, what="after chat set-up")
        rss_after = stack.daphne_rss_kb()
        log(f"chat: settled after {waited:.1f} s; daphne RSS {rss_after / 1024:.1f} MiB")
        if recorder.unexpected_closes:
            # Not fatal: what it costs shows up as lost messages.
            log(
                "warning: the server closed sockets during set-up: "
                f"{dict(recorder.unexpected_closes)} (see var/bench/daphne-*.log)"
            )

        for turn in (0, 1):
            for chat in chats:
                assert chat.client is not None and chat.agent is not None
                session_id = chat.session_id

                def build(client_id: str, k: int, session_id: int = session_id) -> str:
                    return json.dumps(
                        {
                            "type": "chat.send",
                            "ref": client_id,
                            "session_id": session_id,
                            "client_id": client_id,
                            "body": _body(k),
                        }
                    )

                pair = (chat.client, chat.agent) if turn == 0 else (chat.agent, chat.client)
                load.routes.append((*pair, build))
        load.heartbeats = beats
        log(f"chat: set up in {setup_seconds:.0f} s")
        return load, {"rss_created_kb": rss_created, "rss_after_kb": rss_after}
    except BaseException:
        load.heartbeats = beats
        await load.close()
        raise


async def open_echo(stack: Stack, chats: int) -> tuple[Load, float]:
    """Pairs of sockets on the bare echo consumer (realtime/echo.py), the two of a
    pair on different daphnes as a chat's are; the load and the daphne memory
    they took per socket (KB)."""
    recorder = Recorder()
    sockets: list[Sock] = []
    gate = asyncio.Semaphore(100)

    async def open_socket(index: int, daphne: int, pair: int) -> Sock:
        async with gate:
            ws = await _open(
                stack.ws_url(daphne, f"/ws/echo/?pair={pair}"), stack.origin(daphne), None, 60
            )
        sock = Sock(index, ws)
        sock.reader = asyncio.get_running_loop().create_task(_read_echo(sock, recorder))
        sockets.append(sock)
        return sock

    async def open_pair(i: int) -> tuple[Sock, Sock]:
        return await open_socket(2 * i, i, i), await open_socket(2 * i + 1, i + 1, i)

    def build(client_id: str, k: int) -> str:
        return json.dumps({"type": "bench.echo", "client_id": client_id, "body": _body(k)})

    rss_before = stack.daphne_rss_kb()
    log(f"echo: opening {2 * chats} sockets")
    load = Load("echo", recorder, sockets, [])
    try:
        pairs = await asyncio.wait_for(
            asyncio.gather(*(open_pair(i) for i in range(chats))), timeout=600
        )
        await wait_idle(stack, what="after echo set-up")
        rss_after = stack.daphne_rss_kb()
    except BaseException:
        await load.close()
        raise
    for turn in (0, 1):
        for first, second in pairs:
            load.routes.append((first, second, build) if turn == 0 else (second, first, build))
    return load, (rss_after - rss_before) / max(1, len(sockets))


async def warm_up(stack: Stack, agent_cookie: str) -> None:
    """One chat socket and one echo pair per daphne before the first memory
    reading, so imports and first-use caches are not counted per socket."""
    for daphne in range(len(stack.ports)):
        ws = await _open(stack.ws_url(daphne), stack.origin(daphne), agent_cookie, 30)
        await asyncio.wait_for(ws.recv(), 30)
        await ws.send('{"type":"ping","ref":"warm"}')
        await asyncio.wait_for(ws.recv(), 30)
        first = await _open(
            stack.ws_url(daphne, "/ws/echo/?pair=999999"), stack.origin(daphne), None, 30
        )
        await first.send('{"client_id":"warm"}')
        await asyncio.wait_for(first.recv(), 30)
        await first.close()
        await ws.close()
