"""Whether this process reaches Redis, the channel layer's server: one warning
when it is lost, one line when it is back.

While Redis is away everything that uses the layer fails on it: every socket's
receive, every reconnecting socket's group_add, every broadcast. Logged where
each fails, one outage wrote a traceback per socket and per broadcast, over a
hundred per daphne process, and buried what mattered. The channel layer
(realtime.layer) reports each of its calls here instead; the first failure of
an outage is logged, the others are counted, and the first call that reaches
Redis again ends the outage with how long it lasted. The callers only decide
what to do about a failure (close the socket, send the broadcast again) and
log nothing when :func:`is_connection_error` says it was Redis.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import redis

logger = logging.getLogger(__name__)


def is_connection_error(error: BaseException) -> bool:
    """Redis could not be reached or stopped answering: a refused or dropped
    connection, a reply that never came, a server still loading its data (the
    OS's OSError covers the builtin ConnectionError and TimeoutError). Not a
    full connection pool: that is this process's own load, not an outage."""
    if isinstance(error, redis.exceptions.MaxConnectionsError):
        return False
    return isinstance(
        error, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
    )


class Outage:
    """This process's view of a server: reachable, or lost since ``since``.
    ``server`` and ``meanwhile`` (what happens while it is lost) word the
    warning; ``counts`` says which errors are the server being lost."""

    def __init__(
        self,
        server: str = "Redis",
        meanwhile: str = "sockets close and reconnect, broadcasts wait for it",
        counts: Callable[[BaseException], bool] = is_connection_error,
    ) -> None:
        self.server = server
        self.meanwhile = meanwhile
        self.counts = counts
        self._lock = threading.Lock()  # the sender loop of sync code runs in a thread
        self.since: float | None = None  # time.monotonic() of the first failure
        self.failures = 0  # calls that failed in this outage

    def failed(self, error: BaseException, during: str) -> None:
        """A call (``during`` names it) failed on ``error``; only a connection
        error counts, and only the first of an outage is logged."""
        if not self.counts(error):
            return
        with self._lock:
            first = self.since is None
            if first:
                self.since = time.monotonic()
                self.failures = 0
            self.failures += 1
        if first:
            logger.warning(
                "%s is unreachable (%s: %s): %s", self.server, during, error, self.meanwhile
            )

    def reached(self) -> None:
        """A call reached Redis. Called on every one: while nothing is wrong it
        reads one attribute."""
        if self.since is None:
            return
        with self._lock:
            if self.since is None:
                return
            lasted, failures = time.monotonic() - self.since, self.failures
            self.since = None
        logger.warning(
            "%s is reachable again after %.1f s (failed calls meanwhile: %d)",
            self.server,
            lasted,
            failures,
        )


# The one of this process; a forked child (a Celery worker) starts without
# its parent's outage and lock.
current = Outage()


def _reset_after_fork() -> None:
    global current
    current = Outage()


os.register_at_fork(after_in_child=_reset_after_fork)


def failed(error: BaseException, during: str) -> None:
    current.failed(error, during)


def reached() -> None:
    current.reached()
