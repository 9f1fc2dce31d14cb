"""How a socket's ``chat.send`` reaches ``chat.services.message_send``: the hot
path of chat, so the thread it runs on and what runs around it are chosen
here (docs/performance.md, "PostgreSQL sends in the thread pool").

Every ORM call of a daphne process shares one worker thread by default. On
PostgreSQL a send mostly waits for round trips, so sends run in the thread
pool instead (a connection per pool thread) and overlap; the session lock
keeps one chat's sends in order. SQLite has a single writer anyway, and one
thread keeps one connection.

On PostgreSQL, Django's ``CONN_HEALTH_CHECKS`` would also send a ``SELECT 1``
before every send (Channels marks each call as a new request): half of the
send's round trips. A send skips it and heals a dead connection itself
instead: a send is idempotent by its ``client_id``, so when it fails because
the connection is gone (the server restarted, an idle timeout), it is run once
more on a new connection, and stores the message at most once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

from chat import services
from chat.messages import SendResult

logger = logging.getLogger(__name__)


def send_healing_connection(**kwargs: Any) -> SendResult:
    """``message_send(**kwargs)`` without the health check's round trip; once
    more on a fresh connection when it failed because the connection is dead."""
    connection = connections[DEFAULT_DB_ALIAS]
    outermost = not connection.in_atomic_block
    if outermost:
        # Channels' close_old_connections() before this call already dropped
        # a connection that is too old or had errors; only the SELECT 1 is
        # left out.
        connection.health_check_done = True
    try:
        return services.message_send(**kwargs)
    except (InterfaceError, OperationalError):
        # Inside a caller's transaction a retry would run in a broken
        # transaction; an error of a working connection is not ours to retry.
        if not outermost or _usable(connection):
            raise
        logger.warning("chat send: database connection lost; sending again on a new one")
        connection.close()
        return services.message_send(**kwargs)


def _usable(connection: Any) -> bool:
    return connection.connection is not None and connection.is_usable()


@functools.cache
def message_send_runner() -> Callable[..., Awaitable[SendResult]]:
    """The awaitable that runs a socket's send (see the module docstring)."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        return database_sync_to_async(send_healing_connection, thread_sensitive=False)
    return database_sync_to_async(services.message_send)
