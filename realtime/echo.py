"""A bare Channels echo consumer: the baseline of the chat benchmark (``make bench``).

It is mounted at ``/ws/echo/?pair=<n>`` only when ``SWITCHBOARD_BENCH_ECHO=1``
(realtime/routing.py), never in a normal deployment. The two sockets of a pair
join the group ``bench-echo.<n>``; a text frame from either is ``group_send`` to
that group and relayed, unchanged, to both sockets. That is the same path a chat
message takes through daphne and the Redis channel layer (frame in ->
``group_send`` -> relay out), without the database, authentication, frame
validation or JSON re-encoding, so the benchmark can say how much the chat code
adds on top of the stack.

Like the chat consumer it skips Channels' default ``dispatch``, which runs
``close_old_connections`` in a worker thread for every message: nothing here
touches the database, and the baseline should be the bare hop.
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

MAX_PAIR = 1_000_000


class EchoConsumer(AsyncWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        raw = self.scope.get("query_string", b"").decode("latin-1")
        pair = dict(part.partition("=")[::2] for part in raw.split("&") if part).get("pair", "")
        if not pair.isdigit() or int(pair) >= MAX_PAIR:
            await self.close(code=4400)
            return
        self.group = f"bench-echo.{int(pair)}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        message_type = message["type"]
        if message_type == "websocket.receive":
            text = message.get("text")
            if text is not None and self.group is not None:
                await self.channel_layer.group_send(
                    self.group, {"type": "bench.echo", "text": text}
                )
        elif message_type == "bench.echo":
            await self.send(text_data=message["text"])
        else:
            # websocket.connect / websocket.disconnect
            await super().dispatch(message)
