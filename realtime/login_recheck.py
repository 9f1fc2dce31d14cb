"""Every socket's login is re-checked, and the apps' records of it kept
fresh, by one task per event loop instead of by each socket.

A socket must end when its user logs out elsewhere, changes password or is
deactivated; what an app keeps per open socket (presence: an
``AgentConnection`` row that must stay younger than the presence sweep's stale
limit) is refreshed through the ``on_recheck`` hooks of realtime.registry;
and the groups apps choose from the database (``on_groups``: chat's queue
groups) are chosen again, so that a change no app announced reaches every
open socket within a period. Done by each socket on its next frame, that was
three queries and a write transaction per socket per period: with a thousand
sockets, 28 writes a second, each waiting for SQLite's one write lock with the
chat messages (docs/performance.md, "Batched login re-check"). Here one task
per event loop wakes every ``TICK_SECONDS``, takes the sockets whose turn has
come (at most ``BATCH_LIMIT``, so that a thousand sockets that connected
together spread out over the next ticks) and checks them: one query for
their sessions and one for their users (and the apps' reads of their groups)
in a pool thread, then one write in the database thread for the sockets still
open.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Collection, Iterable, Mapping
from importlib import import_module
from types import SimpleNamespace
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from realtime.registry import SocketUser, chosen_groups, groups_hooks, recheck_hooks

logger = logging.getLogger(__name__)

TICK_SECONDS = 1.0
BATCH_LIMIT = 100


class RefreshedSocket(Protocol):
    """What the refresher needs of a consumer."""

    channel_name: str
    session_key: str | None
    user: Any
    refresh_at: float
    refresh_every: float

    async def login_rechecked(
        self, user: SocketUser | None, groups: Collection[str] | None
    ) -> None: ...


def refresh_period() -> float:
    """How often each socket is re-checked. Two periods plus a heartbeat still
    stay under the stale limit, so a live socket's row is never swept."""
    return max(1.0, (settings.PRESENCE_STALE_SECONDS - settings.PRESENCE_HEARTBEAT_SECONDS) / 2)


class _Refresher:
    """The sockets of one event loop, and the task that re-checks them."""

    def __init__(self) -> None:
        # Weak: a consumer that died without its disconnect (an error) must
        # not be kept, nor re-checked, forever.
        self.sockets: weakref.WeakValueDictionary[str, RefreshedSocket] = (
            weakref.WeakValueDictionary()
        )
        self.task: asyncio.Task[None] | None = None

    def add(self, socket: RefreshedSocket) -> None:
        self.sockets[socket.channel_name] = socket
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="socket-refresher")

    def discard(self, socket: RefreshedSocket) -> None:
        if self.sockets.get(socket.channel_name) is socket:
            del self.sockets[socket.channel_name]

    async def _run(self) -> None:
        while self.sockets:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self._tick()
            except Exception:
                # A database hiccup must not drop working sockets, nor stop
                # the checks: the sockets are due again next period.
                logger.exception("re-checking sockets failed")

    async def _tick(self) -> None:
        now = time.monotonic()
        due = [socket for socket in self.sockets.values() if socket.refresh_at <= now]
        due = sorted(due, key=lambda socket: socket.refresh_at)[:BATCH_LIMIT]
        if not due:
            return
        for socket in due:
            socket.refresh_at = now + socket.refresh_every
        # The reads not in the database thread that chat sends queue in on
        # SQLite (docs/performance.md, "Batched login re-check"): they would
        # wait behind the whole tick.
        users, groups = await database_sync_to_async(read_sockets, thread_sensitive=False)(
            [(socket.channel_name, socket.session_key, socket.user) for socket in due]
        )
        # The writes of the apps' recheck hooks in it, for the sockets still
        # open: a socket's disconnect hooks run there too, so a close cannot
        # slip in between and have its row (presence) brought back.
        due_by_channel = {socket.channel_name: socket for socket in due}
        still_open = {
            channel: user
            for channel, user in users.items()
            if self.sockets.get(channel) is due_by_channel[channel]
        }
        if still_open and recheck_hooks():
            await database_sync_to_async(run_recheck_hooks)(still_open)
        for socket in due:
            if self.sockets.get(socket.channel_name) is socket:
                channel = socket.channel_name
                await socket.login_rechecked(users.get(channel), groups.get(channel))


_refreshers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Refresher] = (
    weakref.WeakKeyDictionary()
)


def watch(socket: RefreshedSocket) -> None:
    """Re-check ``socket`` from now on (call on the socket's event loop)."""
    loop = asyncio.get_running_loop()
    refresher = _refreshers.get(loop)
    if refresher is None:
        refresher = _refreshers[loop] = _Refresher()
    refresher.add(socket)


def unwatch(socket: RefreshedSocket) -> None:
    refresher = _refreshers.get(asyncio.get_running_loop())
    if refresher is not None:
        refresher.discard(socket)


# --- Sync, in worker threads -----------------------------------------------------------
def read_sockets(
    sockets: Iterable[tuple[str, str | None, SocketUser]],
) -> tuple[dict[str, SocketUser], dict[str, frozenset[str]]]:
    """Reads only: :func:`logged_in_users`, and the groups the apps choose
    for the sockets still logged in (registry.on_groups; empty when no app
    chooses any)."""
    users = logged_in_users(sockets)
    return users, chosen_groups(users) if groups_hooks() else {}


def logged_in_users(sockets: Iterable[tuple[str, str | None, SocketUser]]) -> dict[str, SocketUser]:
    """Reads only. For ``(channel name, session key, user at connect)``
    triples: the user each socket's session stands for now, by channel name,
    where it is still the user the socket connected as (missing: nobody, the
    socket must end)."""
    sockets = list(sockets)
    current = current_users({key for _, key, _ in sockets if key})
    users: dict[str, SocketUser] = {}
    for channel, key, user in sockets:
        now = current.get(key) if key else None
        if now is not None and now.pk == user.pk:
            users[channel] = now
    return users


def run_recheck_hooks(users: Mapping[str, SocketUser]) -> None:
    """The apps' ``on_recheck`` hooks, for these sockets still open."""
    for hook in recheck_hooks():
        hook(users)


def current_users(session_keys: Collection[str]) -> dict[str, Any]:
    """The active user each session key is logged in as now, by key.

    Django's own check (``auth.get_user``: the user exists, may log in, and the
    session's password hash still matches) on each session; the sessions of
    the database backend are read in one query first, and so are their users
    (see _verified_users)."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    stores: dict[str, Any]
    if issubclass(store_class, DatabaseSessionStore):
        rows = store_class.get_model_class().objects.filter(
            session_key__in=session_keys, expire_date__gt=timezone.now()
        )
        stores = {}
        for key, data in rows.values_list("session_key", "session_data"):
            store = store_class(key)
            # What load() would read, read for all sessions at once.
            store._session_cache = store.decode(data)
            stores[key] = store
    else:
        stores = {key: store_class(key) for key in session_keys}
    users = _verified_users(stores)
    for key, store in stores.items():
        if key in users:
            continue
        # Anything the shortcut did not verify goes through Django itself
        # (which flushes a session that no longer matches).
        user = auth.get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]
        if user.is_authenticated and user.is_active:
            users[key] = user
    return users


def _verified_users(stores: dict[str, Any]) -> dict[str, AbstractBaseUser]:
    """The sessions that ``auth.get_user`` would accept without writing
    anything, with their users read in one query instead of one each.

    ``ModelBackend.get_user`` reads one user per call: a re-check tick of a
    few dozen sockets spent most of its 8 ms there, holding the database
    thread a chat message waits for (docs/performance.md,
    "Batched login re-check"). The same rules, for the sessions of a backend
    whose ``get_user`` is ModelBackend's: the backend is still configured, the
    user exists and may log in, the session's hash matches the password hash
    under the current secret or one of its fallbacks. Every other session is
    left to the caller.

    Unlike ``get_user``, a session signed under a fallback secret is not
    re-signed here: Django does that by giving the session a new key, which
    only an HTTP response can hand to the browser; done here it would log the
    browser out. Its next page load re-signs it."""
    user_model = get_user_model()
    wanted: dict[str, tuple[Any, ModelBackend, str]] = {}
    for key, store in stores.items():
        backend_path = store.get(auth.BACKEND_SESSION_KEY)
        session_hash = store.get(auth.HASH_SESSION_KEY)
        if backend_path not in settings.AUTHENTICATION_BACKENDS or not session_hash:
            continue
        backend = auth.load_backend(backend_path)
        if not isinstance(backend, ModelBackend) or type(backend).get_user is not (
            ModelBackend.get_user
        ):
            continue
        try:
            user_id = user_model._meta.pk.to_python(store[auth.SESSION_KEY])
        except (KeyError, ValidationError):
            continue
        wanted[key] = (user_id, backend, session_hash)
    found = user_model._default_manager.in_bulk({user_id for user_id, _, _ in wanted.values()})
    users: dict[str, AbstractBaseUser] = {}
    for key, (user_id, backend, session_hash) in wanted.items():
        user = found.get(user_id)
        if (
            user is not None
            and backend.user_can_authenticate(user)
            and user.is_active
            and _hash_matches(user, session_hash)
        ):
            users[key] = user
    return users


def _hash_matches(user: AbstractBaseUser, session_hash: str) -> bool:
    if constant_time_compare(session_hash, user.get_session_auth_hash()):
        return True
    return any(
        constant_time_compare(session_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    )
