"""channels_redis' core layer, with one reader per process instead of a relay.

Every socket of a daphne process receives through one Redis key, the
process's channel (``specific.<process id>!``). The stock layer hands that key
from consumer to consumer: whichever consumer holds an asyncio lock reads
*one* message (a cleanup script, ``BZPOPMIN``, a backup ``ZADD``, and a
``ZPOPMIN`` of the backup that the next read waits for: four round trips in a
row), then passes the lock on. With a thousand sockets and a busy event loop,
each of those round trips waits for its turn in the loop, the process reads
fewer messages per second than arrive, and events queue up in Redis: in the
chat benchmark most of a message's p99 latency was spent there
(docs/performance.md, chat benchmark, finding 15).

Here one task per event loop reads the key for all of the process's sockets,
up to ``RECEIVE_BATCH`` messages per round trip (``ZPOPMIN`` with a count; a
blocking ``BZPOPMIN`` when nothing is waiting), and puts each message in its
socket's buffer, in order.
A consumer only waits on its buffer, so a consumer that goes away (its task
is cancelled) never takes a message of another socket with it, which the
stock layer's backup queue was there to repair.

When Redis fails, every socket of the process that is waiting gets the error,
as with the stock layer: the consumer ends, daphne closes the socket, the
browser reconnects and replays what it missed by ``seq`` (tests/integration,
Redis restart). The reader stops; the next ``receive`` starts a new one.

Everything else (sends, groups, capacity, expiry, flush) is the stock layer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels_redis.core import RedisChannelLayer
from channels_redis.utils import create_pool
from redis.asyncio import Redis

logger = logging.getLogger(__name__)

# Messages read per round trip at most. A burst (a sweep's events to every
# staff socket) is read in a few round trips instead of one per message.
RECEIVE_BATCH = 100


class _ReadFailed:
    """Put in the buffer of every socket of the process when the reader lost
    Redis: each raises it at its next (or current) receive."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class SwitchboardChannelLayer(RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._readers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        # The process's sockets that have received and not gone away: all of
        # them must hear of a lost Redis, also those busy at that moment.
        self._local_channels: set[str] = set()

    async def receive(self, channel: str) -> dict[str, Any]:
        if "!" not in channel:
            # A channel not local to this process (nothing here uses one).
            return await super().receive(channel)
        assert self.require_valid_channel_name(channel)
        self._ensure_reader(self.non_local_name(channel))
        self._local_channels.add(channel)
        buffer = self.receive_buffer[channel]
        try:
            message = await buffer.get()
        except asyncio.CancelledError:
            self._local_channels.discard(channel)  # the socket went away
            raise
        finally:
            # An empty buffer of a socket that is not waiting is dropped, as
            # in the stock layer (a late message creates it again).
            if buffer.empty() and self.receive_buffer.get(channel) is buffer:
                del self.receive_buffer[channel]
        if isinstance(message, _ReadFailed):
            self._local_channels.discard(channel)
            raise message.error
        return message

    def _ensure_reader(self, process_channel: str) -> None:
        loop = asyncio.get_running_loop()
        reader = self._readers.get(loop)
        if reader is None or reader.done():
            self._readers[loop] = loop.create_task(
                self._read(process_channel), name="channel-layer-reader"
            )

    async def _read(self, process_channel: str) -> None:
        """Read the process's channel until Redis fails (or the loop ends)."""
        index = self.consistent_hash(process_channel)
        key = self.prefix + process_channel
        # A connection of its own, without a read timeout: redis-py 8 swallows
        # a cancellation that arrives while a read with a socket timeout is
        # pending, and the task would then never end (a loop's shutdown waits
        # for it). BZPOPMIN's own timeout still ends each wait every few
        # seconds, and a closed connection still fails the read at once.
        client = Redis(connection_pool=create_pool({**self.hosts[index], "socket_timeout": None}))
        try:
            await self._read_until_failure(client, key, process_channel)
        finally:
            await client.aclose()

    async def _read_until_failure(self, client: Redis, key: str, process_channel: str) -> None:
        while True:
            try:
                contents = await self._read_batch(client, key)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("channel layer reader lost Redis: %r", error)
                for channel in self._local_channels | set(self.receive_buffer):
                    self.receive_buffer[channel].put_nowait(_ReadFailed(error))
                return
            for content in contents:
                try:
                    self._deliver(content, process_channel)
                except Exception:
                    logger.exception("undeliverable channel layer message dropped")

    async def _read_batch(self, client: Redis, key: str) -> list[bytes]:
        """What is waiting (up to RECEIVE_BATCH messages), or the next message
        to arrive. After a message that came alone, the next call's ZPOPMIN
        usually finds nothing: that round trip comes after the delivery, not
        before it, so it costs no latency."""
        waiting = await client.zpopmin(key, count=RECEIVE_BATCH)
        if waiting:
            return [member for member, _score in waiting]
        while True:
            first = await client.bzpopmin(key, timeout=self.brpop_timeout)
            if first is not None:
                return [first[1]]

    def _deliver(self, content: bytes, process_channel: str) -> None:
        message = self.deserialize(content)
        # A group send names the group's sockets in this process (a list: one
        # message for all of them), a send its one socket.
        channels = message.pop("__asgi_channel__", process_channel)
        for channel in channels if isinstance(channels, list) else (channels,):
            self.receive_buffer[channel].put_nowait(message)

    async def close_pools(self) -> None:
        # The reader of this loop stops with its connections; those of other
        # loops (tests run one loop per test) went with their loops.
        reader = self._readers.pop(asyncio.get_running_loop(), None)
        self._readers.clear()
        if reader is not None:
            reader.cancel()
        await super().close_pools()
