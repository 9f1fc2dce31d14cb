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
(docs/performance.md, "One reader per process").

Here one task per event loop reads the key for all of the process's sockets,
up to ``RECEIVE_BATCH`` messages per round trip (a blocking ``BZPOPMIN`` with
a ``ZPOPMIN`` of the rest pipelined behind it), and puts each message in its
socket's buffer, in order.
A consumer only waits on its buffer, so a consumer that goes away (its task
is cancelled) never takes a message of another socket with it, which the
stock layer's backup queue was there to repair.

When Redis fails, every socket of the process that is waiting gets the error,
as with the stock layer: the consumer closes the socket (realtime.consumer),
the browser reconnects and replays what it missed by ``seq``
(tests/integration, Redis restart). The reader stops; the next ``receive``
starts a new one. Every call of the layer that goes to Redis reports to
realtime.outage, which logs one warning when Redis is lost and one line when
it is back, whatever the number of sockets and broadcasts that failed.

A group send is one round trip (a Lua script) instead of four: the stock
layer expires the group's old members, reads the members, expires old
messages of their processes' keys and adds the message, each a round trip of
the sending event loop, for every broadcast (docs/performance.md,
"Group send in one round trip"). It can also leave out one socket: the one
that sent a chat message has it in its ack already. A send may carry an id
(``send_id``): the script remembers it for ``SENT_ID_SECONDS`` and stores a
second send with the same id nowhere, so a send tried again after a failure
whose outcome is unknown (the connection dropped before the answer came)
reaches each socket once (realtime.broadcast's outbox).

Everything else (sends, group membership, flush) is the stock layer's, its
calls reported to realtime.outage too.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import redis
from channels_redis.core import RedisChannelLayer
from channels_redis.utils import create_pool
from redis.asyncio import ConnectionPool, Redis
from redis.driver_info import DriverInfo
from redis.exceptions import NoScriptError

from realtime import outage

logger = logging.getLogger(__name__)

# Messages read per round trip at most. A burst (a sweep's events to every
# staff socket) is read in a few round trips instead of one per message.
RECEIVE_BATCH = 100


# Group sends pipelined together at most (group_send_many).
PIPELINE_SENDS = 200

# How long Redis remembers the id of a send (group_send's send_id): longer
# than anyone tries a send again (realtime.broadcast.RETRY_SECONDS).
SENT_ID_SECONDS = 120

# A group message is stored once per process key, as by the stock layer, but
# the list of the process's sockets it is for travels in front of the
# serialized message instead of inside it, so that the script need not know
# msgpack: MARK, the channel names joined by commas, a newline, the message.
# (Channel names hold no comma or newline; the serializer's random prefix
# keeps two sends of one message apart in the process's sorted set.)
GROUP_MARK = b"\x00sb-group\x00"

# KEYS[1] the group; ARGV: the serialized message, now, the oldest member
# score kept, the message expiry in seconds, the capacity of a key, the key
# prefix, GROUP_MARK, the channel left out ("" for none), the send's id (""
# for none), how long to remember it. The process keys and the id's key are
# computed here, not passed in KEYS: fine on one Redis server, which is the
# only case this script is used for (a cluster takes the stock path). A send
# whose id is remembered returns -1 and stores nothing. (The id is set after
# the first write, which only removes: Redis 6 checks a script against
# maxmemory at its first write only, and refuses it there if that write may
# take memory; a full Redis should not refuse a broadcast for its id.)
_GROUP_SEND_LUA = r"""
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[3])
if ARGV[9] ~= '' then
  if not redis.call('SET', ARGV[6] .. 'sent-id:' .. ARGV[9], 1, 'NX', 'EX', ARGV[10]) then
    return -1
  end
end
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local keys, channels_of = {}, {}
for _, channel in ipairs(members) do
  if channel ~= ARGV[8] then
    local bang = string.find(channel, '!', 1, true)
    local key = ARGV[6] .. (bang and string.sub(channel, 1, bang) or channel)
    local channels = channels_of[key]
    if channels == nil then
      channels = {}
      channels_of[key] = channels
      keys[#keys + 1] = key
    end
    channels[#channels + 1] = channel
  end
end
local over_capacity = 0
local expired_before = tonumber(ARGV[2]) - tonumber(ARGV[4])
for _, key in ipairs(keys) do
  redis.call('ZREMRANGEBYSCORE', key, 0, expired_before)
  if redis.call('ZCARD', key) < tonumber(ARGV[5]) then
    local header = ARGV[7] .. table.concat(channels_of[key], ',') .. '\n'
    redis.call('ZADD', key, ARGV[2], header .. ARGV[1])
    redis.call('EXPIRE', key, ARGV[4])
  else
    over_capacity = over_capacity + 1
  end
end
return over_capacity
"""
_GROUP_SEND_SHA = hashlib.sha1(_GROUP_SEND_LUA.encode()).hexdigest()


class _ReadFailed:
    """Put in the buffer of every socket of the process when the reader lost
    Redis: each raises it at its next (or current) receive."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _create_pool(host: dict[str, Any]) -> ConnectionPool:
    """channels_redis' pool, its connections told redis-py's version: left
    out, every new connection looks it up in the installed packages' metadata
    (a scan of site-packages, 0.4 ms and more, on the event loop), a thousand
    times over when every socket of a process reconnects at once."""
    return create_pool({"driver_info": DriverInfo(lib_version=redis.__version__), **host})


class SwitchboardChannelLayer(RedisChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._readers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        # The process's sockets that have received and not gone away: all of
        # them must hear of a lost Redis, also those busy at that moment.
        self._local_channels: set[str] = set()
        self._last_score = 0.0

    # --- Membership: the stock layer's, reported to realtime.outage -------------------
    async def group_add(self, group: str, channel: str) -> None:
        try:
            await super().group_add(group, channel)
        except Exception as error:
            outage.failed(error, "group_add")
            raise
        outage.reached()

    async def group_discard(self, group: str, channel: str) -> None:
        try:
            await super().group_discard(group, channel)
        except Exception as error:
            outage.failed(error, "group_discard")
            raise
        outage.reached()

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await super().send(channel, message)
        except Exception as error:
            outage.failed(error, "send")
            raise
        outage.reached()

    # --- Receiving ---------------------------------------------------------------------
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

    def create_pool(self, index: int) -> ConnectionPool:
        return _create_pool(self.hosts[index])

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
        client = Redis(connection_pool=_create_pool({**self.hosts[index], "socket_timeout": None}))
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
                if outage.is_connection_error(error):
                    outage.failed(error, "reading the sockets' messages")
                else:
                    logger.exception("channel layer reader failed")
                for channel in self._local_channels | set(self.receive_buffer):
                    self.receive_buffer[channel].put_nowait(_ReadFailed(error))
                return
            for content in contents:
                try:
                    self._deliver(content, process_channel)
                except Exception:
                    logger.exception("undeliverable channel layer message dropped")

    async def _read_batch(self, client: Redis, key: str) -> list[bytes]:
        """The next message to arrive and what waits behind it (up to
        RECEIVE_BATCH messages), in one round trip: a blocking ``BZPOPMIN``
        and, pipelined behind it, a ``ZPOPMIN`` with a count, which the server
        runs the moment the first one returns. (``BZMPOP`` would be one
        command, but needs Redis 7; the embedded Redis is 6.2.)"""
        while True:
            pipe = client.pipeline(transaction=False)
            pipe.bzpopmin(key, timeout=self.brpop_timeout)
            pipe.zpopmin(key, count=RECEIVE_BATCH - 1)
            first, rest = await pipe.execute()
            outage.reached()
            contents = [first[1]] if first is not None else []
            contents.extend(member for member, _score in rest)
            if contents:
                return contents

    # --- Group sends -------------------------------------------------------------
    def _sends_by_script(self) -> bool:
        """One Redis server and one capacity: the script applies. Otherwise
        the stock layer's way, which cannot leave a socket out: that socket
        then gets its own message too (a browser drops it as a duplicate by
        ``seq``)."""
        return self.ring_size == 1 and not self.channel_capacity

    def _score(self) -> float:
        """The time a message is stored at, which orders a process's sorted
        set: strictly increasing, also for sends in one pipeline (members with
        equal scores would come out in the order of their random prefixes)."""
        self._last_score = max(time.time(), self._last_score + 1e-6)
        return self._last_score

    def _script_args(
        self,
        group: str,
        message: dict[str, Any],
        except_channel: str | None,
        send_id: str | None = None,
    ) -> tuple[Any, ...]:
        assert self.require_valid_group_name(group), "Group name not valid"
        now = self._score()
        return (
            _GROUP_SEND_SHA,
            1,
            self._group_key(group),
            self.serialize(message),
            now,
            int(now) - self.group_expiry,
            int(self.expiry),
            self.capacity,
            self.prefix,
            GROUP_MARK,
            except_channel or "",
            send_id or "",
            SENT_ID_SECONDS,
        )

    async def group_send(
        self,
        group: str,
        message: dict[str, Any],
        *,
        except_channel: str | None = None,
        send_id: str | None = None,
    ) -> None:
        """Send ``message`` to every socket of ``group`` but ``except_channel``,
        in one round trip; not again if a send with ``send_id`` was stored in
        the last ``SENT_ID_SECONDS`` (the stock path, without the script,
        knows no ids)."""
        try:
            await self._send_to_group(group, message, except_channel, send_id)
        except Exception as error:
            outage.failed(error, "group_send")
            raise
        outage.reached()

    async def _send_to_group(
        self,
        group: str,
        message: dict[str, Any],
        except_channel: str | None,
        send_id: str | None,
    ) -> None:
        if not self._sends_by_script():
            await super().group_send(group, message)
            return
        args = self._script_args(group, message, except_channel, send_id)
        connection = self.connection(0)
        try:
            over_capacity = await connection.evalsha(*args)
        except NoScriptError:  # a new (or restarted) Redis: EVAL caches it there
            over_capacity = await connection.eval(_GROUP_SEND_LUA, *args[1:])
        if over_capacity > 0:
            logger.info("%s process channels over capacity in group %s", over_capacity, group)

    async def group_send_many(
        self, sends: Sequence[tuple[str, dict[str, Any], str | None]]
    ) -> None:
        """``(group, message, except_channel)`` sends, in this order, pipelined:
        a sweep's hundreds of events in a few round trips instead of one each
        (docs/performance.md, "Bulk sweep announcements"). A failed send is
        logged and the others go on; losing Redis fails them all at once."""
        try:
            await self._send_to_groups(sends)
        except Exception as error:
            outage.failed(error, "group_send_many")
            raise
        outage.reached()

    async def _send_to_groups(
        self, sends: Sequence[tuple[str, dict[str, Any], str | None]]
    ) -> None:
        if not self._sends_by_script():
            for group, message, _except in sends:
                try:
                    await super().group_send(group, message)
                except Exception:
                    logger.exception("group send to %s failed", group)
            return
        connection = self.connection(0)
        for start in range(0, len(sends), PIPELINE_SENDS):
            chunk = [
                self._script_args(group, message, except_channel)
                for group, message, except_channel in sends[start : start + PIPELINE_SENDS]
            ]
            results = await self._pipelined(connection, chunk)
            missed = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
            if missed:
                # Only those: a send that found the script (loaded meanwhile by
                # another process) must not go twice.
                await connection.script_load(_GROUP_SEND_LUA)
                retried = await self._pipelined(connection, [chunk[i] for i in missed])
                for i, result in zip(missed, retried, strict=True):
                    results[i] = result
            for args, result in zip(chunk, results, strict=True):
                if isinstance(result, Exception):
                    logger.error("group send to %s failed: %r", args[2], result)
                elif result > 0:
                    logger.info("%s process channels over capacity in %s", result, args[2])

    @staticmethod
    async def _pipelined(connection: Redis, chunk: list[tuple[Any, ...]]) -> list[Any]:
        pipe = connection.pipeline(transaction=False)
        for args in chunk:
            pipe.evalsha(*args)
        return list(await pipe.execute(raise_on_error=False))

    def deserialize(self, message: bytes) -> dict[str, Any]:
        if not message.startswith(GROUP_MARK):
            return super().deserialize(message)
        channels, _, content = message[len(GROUP_MARK) :].partition(b"\n")
        body: dict[str, Any] = super().deserialize(content)
        body["__asgi_channel__"] = channels.decode().split(",")
        return body

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
