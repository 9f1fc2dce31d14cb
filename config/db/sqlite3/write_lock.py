"""The lock file next to an SQLite database that its writers queue on (see
base.py): one ``flock`` from BEGIN to COMMIT, taken by polling."""

from __future__ import annotations

import fcntl
import os
import time

# Retry intervals while another connection holds the lock (seconds).
_FIRST_RETRY = 0.0001
_LONGEST_RETRY = 0.0005


def open_for(database: str) -> int:
    """A descriptor of the database's lock file. One per connection: flock
    excludes between open files, so two threads of one process queue as two
    processes do."""
    return os.open(f"{database}.write-lock", os.O_RDWR | os.O_CREAT, 0o600)


def acquire(fd: int, timeout: float) -> bool:
    """Take the lock, retrying every 0.1-0.5 ms (flock itself has no timeout,
    and a wait without one could hang forever behind a stuck transaction);
    False when ``timeout`` seconds passed first."""
    deadline = time.monotonic() + timeout
    pause = _FIRST_RETRY
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_RETRY)
            continue
        return True


def release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
