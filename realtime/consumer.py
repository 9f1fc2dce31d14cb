"""The one websocket of every browser tab: ``/ws/``.

Thin by design: it enforces the socket rules (auth, size, rate), decodes and
dispatches frames through realtime.registry, runs the apps' connect and
disconnect hooks, keeps the socket in the groups the apps choose for it
(registry.on_groups), and relays channel-layer events (sent by
realtime.broadcast) to the browser. Rules live in the services the frame
handlers call.

Close codes: 4401 not logged in (accepted first, so browsers see the code),
4403 the user's role changed (its groups were chosen for the old role), 4009
frame too large, 4429 flooding, 4011 server error. The WebSocket codes for a
frame too large and a server error would be 1009 and 1011, but daphne's
autobahn lets an application send only 1000 and 3000-4999.
daphne itself runs with --websocket-max-message-size at twice
WS_MAX_FRAME_BYTES: a memory guard that drops the connection outright for
absurd frames, while a merely oversize frame gets a clean 4009 from here.

When the channel layer loses Redis (realtime.outage) the socket is closed with
4011 and cleaned up like any other, and nothing is logged here: the layer
logs the outage once for the whole process, where a traceback per socket
(Channels' consumer raising into daphne's "Exception inside application")
buried everything else.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from realtime import login_recheck, outage, registry
from realtime.broadcast import EXCEPT_CHANNEL_KEY
from realtime.client_ip import client_ip_from_scope
from realtime.groups import STAFF_GROUP, user_group

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_LARGE = 4009
CLOSE_FLOODING = 4429
CLOSE_SERVER_ERROR = 4011


def _encode(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame, cls=DjangoJSONEncoder, separators=(",", ":"))


# A frame that needed the channel layer while Redis was unreachable.
UNAVAILABLE = registry.FrameError(
    "unavailable", "The server cannot reach its message service; try again in a moment."
)

ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]
ASGISend = Callable[[dict[str, Any]], Awaitable[None]]


class SwitchboardConsumer(AsyncWebsocketConsumer):
    # Per-socket state is a handful of scalars (the issue-3 benchmark counts
    # memory per socket): no buffers, no per-frame history.
    user: Any = None
    # Where the socket came from (realtime.client_ip), recorded on chat requests.
    client_ip: str | None = None
    # The login the socket was opened with, re-checked by realtime.login_recheck.
    session_key: str | None = None
    refresh_at = 0.0
    refresh_every = 0.0
    # The groups the apps chose for this socket (registry.on_groups), apart
    # from the others so that a re-check leaves only these. Shared and empty
    # until a hook chooses some (a client's socket never has any).
    _chosen: frozenset[str] = frozenset()
    # The connect hooks all ran: the disconnect hooks are owed.
    _registered = False
    _closing = False
    _accepted = False
    _WEBSOCKET_HANDLERS = {
        "websocket.connect": "websocket_connect",
        "websocket.receive": "websocket_receive",
        "websocket.disconnect": "websocket_disconnect",
    }

    async def __call__(self, scope: dict[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Exception as error:
            # The socket's receive from the channel layer raises when the
            # layer loses Redis; anything else is daphne's to log.
            if not outage.is_connection_error(error):
                raise
            await self._close(CLOSE_SERVER_ERROR)
            await self.disconnect(CLOSE_SERVER_ERROR)

    async def connect(self) -> None:
        registry.autodiscover()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept first: a refusal during the handshake reaches browsers as
            # a bare 1006, and the client must know to go to the login page.
            await self.accept()
            await self._close(CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.client_ip = client_ip_from_scope(self.scope)
        self._groups: set[str] = set()
        now = time.monotonic()
        self._tokens = float(settings.WS_RATE_LIMIT_FRAMES)
        self._tokens_at = now
        self._max_bytes = settings.WS_MAX_FRAME_BYTES
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        self.refresh_every = login_recheck.refresh_period()
        self.refresh_at = now + self.refresh_every
        try:
            await self.join_group(user_group(user.pk))
            if user.is_agent:
                await self.join_group(STAFF_GROUP)
            await self.regroup()
            for hook in registry.connect_hooks():
                await hook(self)
            self._registered = True
        except Exception as error:
            if not outage.is_connection_error(error):  # Redis: logged once by the layer
                logger.exception("could not set up socket of user %s", user.pk)
            await self.accept()
            await self._close(CLOSE_SERVER_ERROR)
            return
        await self.accept()
        self._accepted = True
        login_recheck.watch(self)
        await self.send_frame(
            {
                "type": "hello",
                "user": {
                    "id": user.pk,
                    "name": user.display_name,
                    "role": user.role,
                    "is_staff": user.is_agent,
                },
                "heartbeat_seconds": settings.PRESENCE_HEARTBEAT_SECONDS,
                "max_frame_bytes": self._max_bytes,
            }
        )

    async def disconnect(self, code: int) -> None:
        self._closing = True
        login_recheck.unwatch(self)
        try:
            for group in list(getattr(self, "_groups", ())):
                await self.leave_group(group)
        except Exception as error:
            # Redis is unreachable (logged once by the layer): its groups went
            # with it, or drop the member after the layer's group expiry.
            if not outage.is_connection_error(error):
                raise
        if self._registered:
            self._registered = False
            for hook in registry.disconnect_hooks():
                try:
                    await hook(self)
                except Exception:
                    # An app's state of this socket is left to its own repair
                    # (presence: the beat sweep drops a row that goes stale).
                    logger.exception("disconnect hook of %s failed", self.channel_name)

    # --- Group membership (FrameContext) ---------------------------------------
    @property
    def joined_groups(self) -> frozenset[str]:
        return frozenset(getattr(self, "_groups", ()))

    async def join_group(self, group: str) -> None:
        if group not in self._groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self._groups.add(group)

    async def leave_group(self, group: str) -> None:
        if group in self._groups:
            self._groups.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def regroup(self) -> None:
        """Read the groups the apps choose for this socket now
        (registry.on_groups), then join and leave accordingly."""
        if not registry.groups_hooks():
            return
        # In the database thread, as the connect hooks: a pool thread would
        # keep a connection of its own open (PostgreSQL) for a single read.
        chosen = await database_sync_to_async(registry.chosen_groups)(
            {self.channel_name: self.user}
        )
        await self.choose_groups(chosen[self.channel_name])

    async def choose_groups(self, groups: Collection[str]) -> None:
        """Be in exactly ``groups`` of the groups the apps choose."""
        wanted = frozenset(groups)
        if self._closing or wanted == self._chosen:
            return
        # Recorded before the first await: a regroup that overlaps this one
        # diffs against where this one is going.
        leaving, joining = self._chosen - wanted, wanted - self._chosen
        self._chosen = wanted
        for group in leaving:
            await self.leave_group(group)
        for group in joining:
            await self.join_group(group)

    async def send_frame(self, frame: Mapping[str, Any]) -> None:
        if not self._closing:
            await self.send(text_data=_encode(frame))

    async def _close(self, code: int) -> None:
        if not self._closing:
            self._closing = True
            await self.close(code=code)

    # --- Dispatch ----------------------------------------------------------------
    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' default dispatch closes stale DB connections on every
        # message (a thread hop each); database_sync_to_async already does that
        # around every ORM call, and relaying an event touches no database.
        message_type = message["type"]
        if message_type in self._WEBSOCKET_HANDLERS:
            await getattr(self, self._WEBSOCKET_HANDLERS[message_type])(message)
        elif message_type.startswith("websocket."):
            await super().dispatch(message)
        else:
            await self._relay(message)

    async def _relay(self, event: dict[str, Any]) -> None:
        """A channel-layer event: it is the frame, unless a hook says otherwise."""
        if not self._accepted or self._closing:
            return
        if EXCEPT_CHANNEL_KEY in event:  # only with a layer that cannot leave us out
            if event[EXCEPT_CHANNEL_KEY] == self.channel_name:
                return
            event = {key: value for key, value in event.items() if key != EXCEPT_CHANNEL_KEY}
        try:
            hook = registry.event_hook(event["type"])
            frame = await hook(self, event) if hook is not None else event
            if frame is not None:
                await self.send_frame(frame)
        except Disconnected:
            # The browser closed the socket and its disconnect is still on its
            # way to this consumer: nobody is left to tell.
            logger.debug("dropped %s for a closed socket", event.get("type"))
        except Exception as error:
            if not outage.is_connection_error(error):  # Redis: logged once by the layer
                logger.exception("relaying %s failed", event.get("type"))

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        if self._closing or self.user is None:
            return
        if not self._take_token():
            await self._close(CLOSE_FLOODING)
            return
        text: str | None = message.get("text")
        if text is None:
            if len(message.get("bytes") or b"") > self._max_bytes:
                await self._close(CLOSE_TOO_LARGE)
            else:
                await self.send_frame(
                    registry.FrameError("bad_frame", "Binary frames are not accepted.").as_frame()
                )
            return
        # Refuse an oversize frame before parsing it. Characters never exceed
        # bytes, so encode only when the text is near the limit.
        if len(text) > self._max_bytes or (
            len(text) * 4 > self._max_bytes and len(text.encode()) > self._max_bytes
        ):
            await self._close(CLOSE_TOO_LARGE)
            return
        await self._handle(text)

    async def _handle(self, text: str) -> None:
        ref: str | int | None = None
        try:
            body = registry.parse(text)
            ref = registry.frame_ref(body)
            spec, data = registry.resolve(body, self.user)
            reply = await spec.handler(self, data)
        except Exception as exc:
            error = registry.as_frame_error(exc)
            if error is None and outage.is_connection_error(exc):
                error = UNAVAILABLE  # logged once by the layer
            if error is None:
                logger.exception("frame handling failed for user %s", self.user.pk)
                error = registry.FrameError("internal", "Something went wrong on our side.")
            await self.send_frame(error.as_frame(ref))
            return
        if reply is None:
            if ref is not None:
                await self.send_frame({"type": "ack", "ref": ref})
            return
        if ref is not None:
            reply = {**reply, "ref": ref}
        await self.send_frame(reply)

    # --- Socket rules -------------------------------------------------------------
    def _take_token(self) -> bool:
        """Token bucket: WS_RATE_LIMIT_FRAMES per window, refilled smoothly, so a
        burst is allowed but a sustained flood is not. Two floats per socket."""
        now = time.monotonic()
        limit = settings.WS_RATE_LIMIT_FRAMES
        rate = limit / settings.WS_RATE_LIMIT_WINDOW_SECONDS
        self._tokens = min(float(limit), self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    async def login_rechecked(self, user: Any, groups: Collection[str] | None = None) -> None:
        """realtime.login_recheck re-checked the login: ``user`` as it is now, or
        None (logged out, password changed, deactivated): the socket ends.
        ``groups``: the groups the apps choose for it now (None: no app
        chooses any)."""
        if self._closing:
            return
        if user is None:
            await self._close(CLOSE_UNAUTHENTICATED)
        elif user.role != self.user.role:
            # Groups were chosen for the old role; the browser reconnects.
            await self._close(CLOSE_FORBIDDEN)
        else:
            self.user = user
            if groups is not None:
                await self.choose_groups(groups)
