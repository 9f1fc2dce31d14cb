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

Each process keeps its own view (:class:`PerProcess`); chat.enqueue keeps one
of the Celery broker the same way.
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
    warning."""

    def __init__(
        self,
        server: str = "Redis",
        meanwhile: str = "sockets close and reconnect, broadcasts wait for it",
    ) -> None:
        self.server = server
        self.meanwhile = meanwhile
        self._lock = threading.Lock()  # the sender loop of sync code runs in a thread
        self.since: float | None = None  # time.monotonic() of the first failure
        self.failures = 0  # calls that failed in this outage

    def failed(self, error: BaseException, during: str) -> None:
        """A call (``during`` names it) failed on ``error``, the server being
        lost (the caller tells which errors are); only the first of an outage
        is logged."""
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
        """A call reached the server. Called on every one: while nothing is
        wrong it reads one attribute."""
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


class PerProcess:
    """The Outage of a server for this process (``current``, made by ``make``):
    a forked child (a Celery pool process) makes its own, without its
    parent's outage and lock (a lock held by another thread of the parent
    at the fork would stay held in the child forever)."""

    def __init__(self, make: Callable[[], Outage]) -> None:
        self.make = make
        self.current = make()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.current = self.make()

    def failed(self, error: BaseException, during: str) -> None:
        self.current.failed(error, during)

    def reached(self) -> None:
        self.current.reached()


# Redis, as the channel layer (realtime.layer) reaches it.
redis_outage = PerProcess(Outage)


def failed(error: BaseException, during: str) -> None:
    """A call to Redis failed on ``error``: counted when Redis was lost
    (:func:`is_connection_error`), not when the call itself was wrong."""
    if is_connection_error(error):
        redis_outage.failed(error, during)


def reached() -> None:
    redis_outage.reached()
