"""Django's SQLite backend, with writers that queue instead of backing off.

Several processes share the SQLite file (two daphnes, the Celery worker and
beat). A transaction starts with ``BEGIN IMMEDIATE`` and takes SQLite's write
lock; a second writer meanwhile gets SQLITE_BUSY, and SQLite's busy handler
makes it sleep 1, 2, 5, 10, 15, 20, 25... ms between tries. A write lock held
for half a millisecond could so cost the next writer 8 or 18 ms; in the chat
benchmark that was the tail of every run with two daphne processes
(docs/performance.md, "SQLite writers queue on a lock file").

Here each transaction first takes an exclusive ``flock`` on a lock file next to
the database and keeps it until COMMIT or ROLLBACK. A waiting writer retries
every 0.1-0.5 ms (``flock`` has no timeout, and a wait without one could hang
forever behind a stuck transaction), so it starts at most half a millisecond
after the lock came free. After the connection's ``timeout`` it stops waiting
and goes on to ``BEGIN IMMEDIATE`` as before, which either gets the lock or
fails as plain SQLite would: never worse than without this file.

In daphne processes the WAL is copied back into the database file by a
thread (``checkpoint.py``), not by whichever commit crosses SQLite's
threshold.

Writes outside a transaction (rare here: services write in ``atomic``) do not
take the file lock; SQLite's own lock still orders them. An in-memory database
is private to its process and takes no file lock either.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.db.backends.sqlite3 import base

from config.db.sqlite3 import checkpoint, write_lock


class DatabaseWrapper(base.DatabaseWrapper):
    _write_lock_fd: int | None = None
    _write_lock_held = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        self._close_write_lock()
        if not self.is_in_memory_db():
            self._write_lock_fd = write_lock.open_for(str(self.settings_dict["NAME"]))
            # The log is copied back in a thread, not in a commit (checkpoint.py).
            checkpoint.ensure_running(
                str(self.settings_dict["NAME"]),
                float(getattr(settings, "SQLITE_CHECKPOINT_SECONDS", 0)),
            )
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        self._take_write_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._close_write_lock()

    # --- The lock file ----------------------------------------------------------
    def _take_write_lock(self) -> None:
        fd = self._write_lock_fd
        if fd is None or self._write_lock_held:
            return
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        # After the timeout SQLite's own busy handling decides.
        self._write_lock_held = write_lock.acquire(fd, timeout)

    def _release_write_lock(self) -> None:
        if self._write_lock_held and self._write_lock_fd is not None:
            self._write_lock_held = False
            write_lock.release(self._write_lock_fd)

    def _close_write_lock(self) -> None:
        fd, self._write_lock_fd = self._write_lock_fd, None
        self._write_lock_held = False
        if fd is not None:
            os.close(fd)  # also lets go of the lock
