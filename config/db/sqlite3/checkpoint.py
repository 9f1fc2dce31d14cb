"""The WAL of an SQLite file copied into the database in a thread of its own.

In WAL mode SQLite copies the log back into the database file (a checkpoint)
in the commit that takes the log past 1,000 pages: that commit's caller waits
for the copy and two fsyncs, 3-5 ms here. A chat message writes about nine
pages, so every ~110th message paid it: in the chat benchmark that was the
whole SQLite tail, one slow message every 0.57 s (docs/performance.md,
"SQLite checkpoints in a thread").

Each daphne process (``enable()``, config/asgi.py) starts, when it first
connects to the file, one thread that runs a PASSIVE checkpoint every
``SQLITE_CHECKPOINT_SECONDS``: it neither waits for nor blocks readers and
writers, and copies what is in the log. The log itself
starts again from the beginning only for a writer that begins when all of it
has been copied, and with writers committing all the time that moment may
never come: so when the log has grown past ``RESTART_PAGES`` the thread
copies the little that came in meanwhile once more while holding the
writers' lock file (base.py), and the next writer starts the log anew. The
commits' own automatic checkpoint (at 1,000 pages) stays on as the safety net
for when the thread falls behind.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from urllib.parse import quote

from config.db.sqlite3 import write_lock

logger = logging.getLogger(__name__)

# Log length (pages) from which a pass ends with a checkpoint under the
# writers' lock; below SQLite's 1,000, so that the commits never reach theirs.
RESTART_PAGES = 500
# How long a pass waits for the writers' lock before it tries next time.
LOCK_TIMEOUT_SECONDS = 0.05

_enabled = False
_lock = threading.Lock()
# (process id, database path) of every checkpointer running.
_running: dict[tuple[int, str], WalCheckpointer] = {}


class WalCheckpointer:
    """A daemon thread that checkpoints one database file every ``interval``
    seconds on a connection of its own, until ``stop()``."""

    def __init__(self, path: str, interval: float) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0  # checkpoints that copied a whole log of some pages
        self.restarts = 0  # those under the writers' lock that copied the whole log
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"sqlite-checkpoint {os.path.basename(path)}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        lock_fd: int | None = None
        inode: int | None = None
        failing = False
        try:
            while not self._stopped.wait(self.interval):
                try:
                    try:
                        current = os.stat(self.path).st_ino
                    except FileNotFoundError:
                        continue  # not there (yet, or any more)
                    if current != inode or connection is None or lock_fd is None:
                        # New, or deleted and made again (a test database): a
                        # connection to the old file would checkpoint nothing.
                        self._close(connection, lock_fd)
                        connection, lock_fd, inode = None, None, None
                        connection = self._connect()
                        lock_fd = write_lock.open_for(self.path)
                        inode = current
                    self._pass(connection, lock_fd)
                    failing = False
                except Exception:
                    # Gone between the stat and the connect, out of file
                    # handles...: tried again next pass (logged once until
                    # one works); the commits checkpoint meanwhile.
                    if not failing:
                        logger.warning(
                            "background checkpoint of %s failed", self.path, exc_info=True
                        )
                    failing = True
        finally:
            self._close(connection, lock_fd)

    def _connect(self) -> sqlite3.Connection:
        # mode=rw: never create the file (it may be gone by now).
        # timeout=0: a busy file is skipped until the next pass, never waited for.
        return sqlite3.connect(
            f"file:{quote(self.path)}?mode=rw",
            uri=True,
            timeout=0,
            isolation_level=None,
            check_same_thread=False,
        )

    @staticmethod
    def _close(connection: sqlite3.Connection | None, lock_fd: int | None) -> None:
        if connection is not None:
            connection.close()
        if lock_fd is not None:
            os.close(lock_fd)

    def _pass(self, connection: sqlite3.Connection, lock_fd: int) -> None:
        result = self._checkpoint(connection)
        if result is None or result[1] < RESTART_PAGES:
            return
        if not write_lock.acquire(lock_fd, LOCK_TIMEOUT_SECONDS):
            return
        try:
            # No writer can add to the log now: once this copied the rest,
            # the next writer starts the log from the beginning.
            result = self._checkpoint(connection)
            if result is not None and not result[0] and result[1] == result[2]:
                self.restarts += 1
        finally:
            write_lock.release(lock_fd)

    def _checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int] | None:
        """SQLite's (busy, log pages, pages copied); None when the file was
        locked. The log is all in the database file when busy is 0 and the
        two counts are equal."""
        try:
            # fetchall: a statement not stepped to its end keeps its read
            # lock, and the next writer could then never start the log anew.
            ((busy, log_pages, copied),) = connection.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchall()
        except sqlite3.OperationalError as exc:
            # Locked for a moment; the commits' own checkpoint covers for it.
            logger.debug("checkpoint of %s skipped: %s", self.path, exc)
            return None
        if not busy and log_pages > 0 and log_pages == copied:
            self.checkpoints += 1
        return busy, log_pages, copied


def enable() -> None:
    """Let this process run checkpointers (daphne: config/asgi.py). Only
    processes that serve sockets need them, and others are better without a
    thread holding an SQLite connection: a process that forks (Celery's
    prefork pool) must not hand one to its children."""
    global _enabled
    _enabled = True


def ensure_running(path: str, interval: float) -> WalCheckpointer | None:
    """The checkpointer of ``path`` in this process, started if need be; None
    when this process did not ``enable()`` them or ``interval`` is 0."""
    if not _enabled or interval <= 0:
        return None
    key = (os.getpid(), os.path.abspath(path))
    with _lock:
        checkpointer = _running.get(key)
        if checkpointer is None:
            checkpointer = _running[key] = WalCheckpointer(key[1], interval)
            checkpointer.start()
        return checkpointer
