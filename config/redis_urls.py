"""Translate one REDIS_URL into the spellings each client library wants.

channels_redis takes ``unix:///abs/path.sock?db=N`` or ``redis://host:port/N``;
Celery/kombu takes ``redis+socket:///abs/path.sock?virtual_host=N`` for sockets.
Keeping the conversion in one place means the operator sets one variable.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse


class RedisUrlError(ValueError):
    pass


def _shown(url: str) -> str:
    """The URL for an error message, its password masked (messages end up in logs)."""
    parsed = urlparse(url)
    if parsed.password is None:
        return repr(url)
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return repr(parsed._replace(netloc=netloc).geturl())


def validate_redis_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss", "unix"}:
        raise RedisUrlError(
            f"REDIS_URL must start with redis://, rediss:// or unix:// (got {_shown(url)})"
        )
    if parsed.scheme == "unix" and not parsed.path.startswith("/"):
        raise RedisUrlError(f"REDIS_URL unix socket path must be absolute (got {_shown(url)})")
    if parsed.scheme != "unix" and not parsed.hostname:
        raise RedisUrlError(f"REDIS_URL has no host (got {_shown(url)})")
    try:
        parsed.port  # noqa: B018 - urlparse checks the port only when it is read
    except ValueError as exc:
        raise RedisUrlError(f"REDIS_URL has an invalid port (got {_shown(url)})") from exc
    try:
        if parsed.scheme == "unix":
            _unix_db(url)
        else:
            int((parsed.path or "/0").lstrip("/") or 0)
    except ValueError as exc:
        raise RedisUrlError(
            f"REDIS_URL database must be a number, as in redis://host:6379/0 "
            f"or unix:///path.sock?db=0 (got {_shown(url)})"
        ) from exc
    return url


def _unix_db(url: str) -> int:
    query = parse_qs(urlparse(url).query)
    return int(query.get("db", ["0"])[0])


# channels_redis waits for messages with a 5 s BZPOPMIN; redis-py's default
# 5 s socket timeout made an answer that came a moment late raise inside the
# consumer's receive, and Channels closed that socket with 1011.
CHANNELS_SOCKET_TIMEOUT = 15
# redis-py's asyncio pool raises MaxConnectionsError beyond its limit (100 by
# default) instead of waiting: a burst of connects failed handshakes with 500.
CHANNELS_MAX_CONNECTIONS = 1000


def channels_hosts(url: str) -> list[dict[str, str | int]]:
    """The ``hosts`` entry for channels_redis (a URL of either spelling works
    as ``address``; the pool is built by redis-py's ``from_url``)."""
    return [
        {
            "address": url,
            "socket_timeout": CHANNELS_SOCKET_TIMEOUT,
            "max_connections": CHANNELS_MAX_CONNECTIONS,
        }
    ]


def celery_broker_url(url: str, *, db_offset: int = 0) -> str:
    """A kombu URL for the same server. ``db_offset`` keeps Celery's keys apart
    from the channel layer's on the same server."""
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        db = _unix_db(url) + db_offset
        return f"redis+socket://{parsed.path}?virtual_host={db}"
    db = int((parsed.path or "/0").lstrip("/") or 0) + db_offset
    return parsed._replace(path=f"/{db}").geturl()


def redis_py_url(url: str) -> str:
    """A URL redis-py's ``Redis.from_url`` understands (it reads unix:// too)."""
    return url
