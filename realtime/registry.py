"""The registry of the one multiplexed socket (``/ws/``): frame validation, the
map from a frame type to (field schema, handler, who may send it), and the
hooks apps run when a socket connects, disconnects or is re-checked.

A frame is a JSON object ``{"type": "...", "ref": <optional>, ...fields}``,
decoded strictly by realtime.frame_json. ``ref`` (a string of 1-64
characters, or a whole number a browser reads exactly) is the browser's
correlation id and is echoed in the reply or error. Unknown fields are refused
so that a typo is an error, not a silently ignored field.

Any app registers its frames in an ``<app>/frames.py`` module (imported once by
:func:`autodiscover`, like admin.py)::

    from realtime.registry import Audience, Int, Str, Uuid, frame

    @frame("chat.send", audience=Audience.ANY,
           fields={"session_id": Int(min_value=1), "client_id": Uuid(),
                   "body": Str(max_length=10_000)})
    async def chat_send(ctx: FrameContext, data: dict[str, Any]) -> dict | None:
        message = await database_sync_to_async(message_send)(user=ctx.user, **data)
        return {"type": "chat.sent", "seq": message.seq}

The handler gets the validated fields and a :class:`FrameContext` (the
consumer: user, channel name, group membership, direct send). What it returns
is sent back with the frame's ``ref``; returning None sends
``{"type": "ack", "ref": ...}`` when the frame had a ref, nothing otherwise.
Raise :class:`FrameError`, or a domain error registered with
:func:`expose_errors`, to answer ``{"type": "error", "code", "message", "ref"}``;
the socket stays open.

Channel-layer events are relayed to the browser as they are (the event is the
frame); :func:`on_event` lets an app act on one first, e.g. join the sockets of
an agent who just joined a chat to that chat's group.

This app knows no other app of ours: a socket's user is anything with the
:class:`SocketUser` attributes, and apps that keep state per socket (presence
keeps a row per open socket) register :func:`on_connect`,
:func:`on_disconnect` and :func:`on_recheck` hooks from their ``frames.py``.
An app that puts sockets in groups chosen from the database (chat: the groups
of the queues an agent is a member of) registers :func:`on_groups`.
An app that has something to say on every heartbeat (chat: the last ``seq``
of each chat the socket hears) registers an :func:`on_heartbeat` hook, whose
fields go into the ``pong``.
"""

from __future__ import annotations

import enum
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils.module_loading import autodiscover_modules

from realtime import frame_json
from realtime.frame_json import MAX_SAFE_INTEGER

MAX_TYPE_LENGTH = 64
NOT_GIVEN: Any = object()
# What no text column can store: a NUL (PostgreSQL refuses it) or half of a
# surrogate pair (JSON's "\ud800" decodes to one; UTF-8 cannot encode it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class FrameError(Exception):
    """A frame we refuse; the socket stays open. ``ref``: the ref read from the
    text of a frame that could not be decoded (:func:`parse`)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        ref: str | int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = dict(fields) if fields else None
        self.ref = ref

    def as_frame(self, ref: str | int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        ref = self.ref if ref is None else ref
        if ref is not None:
            body["ref"] = ref
        return body


class SocketUser(Protocol):
    """What the socket platform reads of a logged-in user (the project's
    ``accounts.User`` has it)."""

    pk: Any
    role: str
    display_name: str
    is_active: bool
    is_authenticated: bool
    is_agent: bool  # staff: agents, supervisors, administrators
    is_supervisor: bool
    is_client: bool


class Audience(enum.Enum):
    """Who may send a frame type; checked on every frame."""

    ANY = "any"
    STAFF = "staff"  # agents, supervisors, administrators
    SUPERVISOR = "supervisor"
    CLIENT = "client"

    def allows(self, user: SocketUser) -> bool:
        if self is Audience.ANY:
            return True
        if self is Audience.STAFF:
            return user.is_agent
        if self is Audience.SUPERVISOR:
            return user.is_supervisor
        return user.is_client


# --- Fields -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Field:
    """A frame field. ``clean`` returns the value or raises ValueError(reason)."""

    required: bool = True
    default: Any = None

    def clean(self, value: Any) -> Any:
        return value


@dataclass(frozen=True, slots=True)
class Str(Field):
    max_length: int = 1000
    min_length: int = 1
    strip: bool = True

    def clean(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if unstorable := _UNSTORABLE.search(value):
            if unstorable.group() == "\x00":
                raise ValueError("must not contain null characters")
            raise ValueError("must be valid Unicode text (a surrogate is unpaired)")
        if self.strip:
            value = value.strip()
        if len(value) < self.min_length:
            raise ValueError("must not be empty" if self.min_length == 1 else "is too short")
        if len(value) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        return value


@dataclass(frozen=True, slots=True)
class Int(Field):
    """A whole number, never beyond what a browser reads exactly (nor, so, what
    a 64-bit database column holds)."""

    min_value: int = -MAX_SAFE_INTEGER
    max_value: int = MAX_SAFE_INTEGER

    def clean(self, value: Any) -> int:
        # bool is an int in Python but never what the browser meant.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        lowest = max(self.min_value, -MAX_SAFE_INTEGER)
        highest = min(self.max_value, MAX_SAFE_INTEGER)
        if value < lowest:
            raise ValueError(f"must be at least {lowest}")
        if value > highest:
            raise ValueError(f"must be at most {highest}")
        return value


@dataclass(frozen=True, slots=True)
class Bool(Field):
    def clean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value


@dataclass(frozen=True, slots=True)
class Choice(Field):
    choices: tuple[str, ...] = ()

    def clean(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}")
        return value


@dataclass(frozen=True, slots=True)
class Uuid(Field):
    def clean(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) > 36:
            raise ValueError("must be a UUID")
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError("must be a UUID") from None


@dataclass(frozen=True, slots=True)
class Obj(Field):
    fields: Mapping[str, Field] = field(default_factory=dict)

    def clean(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError("must be an object")
        errors: dict[str, str] = {}
        cleaned = clean_fields(value, self.fields, errors)
        if errors:
            raise ValueError("; ".join(f"{k}: {v}" for k, v in errors.items()))
        return cleaned


@dataclass(frozen=True, slots=True)
class ListOf(Field):
    item: Field = field(default_factory=Field)
    max_items: int = 100

    def clean(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError("must be a list")
        if len(value) > self.max_items:
            raise ValueError(f"must have at most {self.max_items} items")
        out = []
        for index, item in enumerate(value):
            try:
                out.append(self.item.clean(item))
            except ValueError as exc:
                raise ValueError(f"item {index} {exc}") from None
        return out


def clean_fields(
    raw: Mapping[str, Any], schema: Mapping[str, Field], errors: dict[str, str]
) -> dict[str, Any]:
    """Validate ``raw`` against ``schema``; problems are collected in ``errors``."""
    cleaned: dict[str, Any] = {}
    for name in raw.keys() - schema.keys():
        errors[name] = "unknown field"
    for name, spec in schema.items():
        value = raw.get(name, NOT_GIVEN)
        if value is NOT_GIVEN or value is None:
            if spec.required:
                errors[name] = "is required"
            else:
                cleaned[name] = spec.default
            continue
        try:
            cleaned[name] = spec.clean(value)
        except ValueError as exc:
            errors[name] = str(exc)
    return cleaned


# --- Registry -------------------------------------------------------------------
class FrameContext(Protocol):
    """What a handler may use of the socket it runs on."""

    user: Any  # a SocketUser: Any, so handlers may pass it on as their app's User
    channel_name: str
    client_ip: str | None
    scope: Mapping[str, Any]

    @property
    def joined_groups(self) -> frozenset[str]:
        """The channel-layer groups the socket is in (join_group, leave_group)."""
        ...

    async def send_frame(self, frame: Mapping[str, Any]) -> None: ...
    async def join_group(self, group: str) -> None: ...
    async def leave_group(self, group: str) -> None: ...
    async def regroup(self) -> None: ...


Reply = dict[str, Any] | None
Handler = Callable[[FrameContext, dict[str, Any]], Awaitable[Reply]]
EventHook = Callable[[FrameContext, dict[str, Any]], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class FrameSpec:
    type: str
    handler: Handler
    audience: Audience
    fields: Mapping[str, Field]


_frames: dict[str, FrameSpec] = {}
_event_hooks: dict[str, EventHook] = {}
_exposed_errors: list[type[Exception]] = []

# Run for every socket, in the order registered (see the module docstring).
ConnectHook = Callable[[FrameContext], Awaitable[None]]
RecheckHook = Callable[[Mapping[str, Any]], None]
GroupsHook = Callable[[Mapping[str, Any]], Mapping[str, Collection[str]]]
HeartbeatHook = Callable[[FrameContext], Awaitable[Mapping[str, Any]]]
_connect_hooks: list[ConnectHook] = []
_disconnect_hooks: list[ConnectHook] = []
_recheck_hooks: list[RecheckHook] = []
_groups_hooks: list[GroupsHook] = []
_heartbeat_hooks: list[HeartbeatHook] = []


def frame(
    frame_type: str,
    *,
    audience: Audience = Audience.ANY,
    fields: Mapping[str, Field] | None = None,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``frame_type`` (one handler per type)."""
    if not frame_type or len(frame_type) > MAX_TYPE_LENGTH or frame_type == "error":
        raise ValueError(f"bad frame type {frame_type!r}")
    if "ref" in (fields or {}) or "type" in (fields or {}):
        raise ValueError("'type' and 'ref' belong to the envelope")

    def register(handler: Handler) -> Handler:
        existing = _frames.get(frame_type)
        if existing is not None and existing.handler is not handler:
            raise ValueError(f"frame type {frame_type!r} is already registered")
        _frames[frame_type] = FrameSpec(frame_type, handler, audience, dict(fields or {}))
        return handler

    return register


def on_event(event_type: str) -> Callable[[EventHook], EventHook]:
    """Run ``hook(ctx, event)`` when a channel-layer event of this type reaches a
    socket; what it returns is sent instead of the event (None: nothing)."""

    def register(hook: EventHook) -> EventHook:
        _event_hooks[event_type] = hook
        return hook

    return register


def on_connect(hook: ConnectHook) -> ConnectHook:
    """Run ``await hook(ctx)`` for each new socket of a logged-in user, after
    it joined its groups and before it is accepted. A hook that raises makes
    the socket close with 4011 (server error)."""
    if hook not in _connect_hooks:
        _connect_hooks.append(hook)
    return hook


def on_disconnect(hook: ConnectHook) -> ConnectHook:
    """Run ``await hook(ctx)`` when a socket whose connect hooks all ran
    closes. An error is logged; the other hooks still run."""
    if hook not in _disconnect_hooks:
        _disconnect_hooks.append(hook)
    return hook


def on_recheck(hook: RecheckHook) -> RecheckHook:
    """Run ``hook({channel name: user})`` for the sockets whose login the
    periodic re-check (realtime.login_recheck) just confirmed and that are
    still open. It runs in the database thread (sync code: it may use the
    ORM), in one call per batch."""
    if hook not in _recheck_hooks:
        _recheck_hooks.append(hook)
    return hook


def on_groups(hook: GroupsHook) -> GroupsHook:
    """Register ``hook({channel name: user}) -> {channel name: groups}``: the
    groups an app wants these sockets in, read from the database (sync code:
    it may use the ORM, and reads only). A socket the answer leaves out belongs
    in none of them. The groups are the app's own: nothing else joins or
    leaves them.

    A socket joins its groups when it connects (before it is accepted), and
    again, joining what it lacks and leaving what it no longer belongs in,
    at every re-check of its login (realtime.login_recheck, all due sockets
    in one call) and whenever a frame or event hook calls
    ``FrameContext.regroup()`` (e.g. when the app learns that a user's groups
    changed)."""
    if hook not in _groups_hooks:
        _groups_hooks.append(hook)
    return hook


def groups_hooks() -> tuple[GroupsHook, ...]:
    return tuple(_groups_hooks)


def chosen_groups(users: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Every app's groups (:func:`on_groups`) for these sockets, by channel
    name; each of ``users`` has an entry, empty when it belongs in none."""
    chosen: dict[str, set[str]] = {channel: set() for channel in users}
    for hook in _groups_hooks:
        for channel, groups in hook(users).items():
            if channel in chosen:
                chosen[channel].update(groups)
    return {channel: frozenset(groups) for channel, groups in chosen.items()}


def on_heartbeat(hook: HeartbeatHook) -> HeartbeatHook:
    """Run ``await hook(ctx)`` on every ``ping`` of a socket (the browser's
    heartbeat, every ``heartbeat_seconds``); the fields it returns go into the
    ``pong``. Keep it cheap: every open socket pings. Name the fields after
    the app (``chat_seqs``), so that two apps' fields never collide."""
    if hook not in _heartbeat_hooks:
        _heartbeat_hooks.append(hook)
    return hook


def connect_hooks() -> tuple[ConnectHook, ...]:
    return tuple(_connect_hooks)


def disconnect_hooks() -> tuple[ConnectHook, ...]:
    return tuple(_disconnect_hooks)


def recheck_hooks() -> tuple[RecheckHook, ...]:
    return tuple(_recheck_hooks)


def heartbeat_hooks() -> tuple[HeartbeatHook, ...]:
    return tuple(_heartbeat_hooks)


def expose_errors(*error_types: type[Exception]) -> None:
    """Let these domain errors (with a ``code`` attribute and a message) reach
    the browser as error frames instead of ``internal``."""
    for error_type in error_types:
        if error_type not in _exposed_errors:
            _exposed_errors.append(error_type)


def as_frame_error(exc: Exception) -> FrameError | None:
    """The error frame for an exposed domain error, None for anything else."""
    if isinstance(exc, FrameError):
        return exc
    if _exposed_errors and isinstance(exc, tuple(_exposed_errors)):
        return FrameError(str(getattr(exc, "code", "error")), str(exc))
    return None


def event_hook(event_type: str) -> EventHook | None:
    return _event_hooks.get(event_type)


def registered_types() -> list[str]:
    return sorted(_frames)


_discovered = False
_discover_lock = threading.Lock()


def autodiscover() -> None:
    """Import every installed app's ``frames`` module once."""
    global _discovered
    if _discovered:
        return
    with _discover_lock:
        if not _discovered:
            autodiscover_modules("frames")
            _discovered = True


# --- Parsing ----------------------------------------------------------------------
def parse(text: str) -> dict[str, Any]:
    """Decode the envelope. Raises FrameError for text that is not strict JSON
    (``bad_json``, with the ref when one can be read from the text) or not an
    object (``bad_frame``)."""
    try:
        body = frame_json.decode(text)
    except frame_json.UndecodableFrame as exc:
        raise FrameError(
            "bad_json", f"The frame is not valid JSON: {exc}.", ref=frame_json.salvaged_ref(text)
        ) from None
    if not isinstance(body, dict):
        raise FrameError("bad_frame", "A frame must be a JSON object.")
    return body


def frame_ref(body: Mapping[str, Any]) -> str | int | None:
    """The frame's correlation id if it is a usable one (else None)."""
    return frame_json.usable_ref(body.get("ref"))


def resolve(body: Mapping[str, Any], user: SocketUser) -> tuple[FrameSpec, dict[str, Any]]:
    """Find the spec of a decoded frame, check who sends it, clean its fields."""
    if "ref" in body and frame_ref(body) is None:
        raise FrameError(
            "invalid",
            "The frame's ref must be a short string or a whole number.",
            fields={
                "ref": f"must be a string of 1-64 characters or a whole number "
                f"from -{MAX_SAFE_INTEGER} to {MAX_SAFE_INTEGER}"
            },
        )
    frame_type = body.get("type")
    if not isinstance(frame_type, str) or not frame_type:
        raise FrameError("bad_frame", "A frame needs a string 'type'.")
    spec = _frames.get(frame_type)
    if spec is None:
        raise FrameError("unknown_type", f"Unknown frame type {frame_type[:MAX_TYPE_LENGTH]!r}.")
    if not spec.audience.allows(user):
        raise FrameError("forbidden", "You may not send this frame.")
    raw = {k: v for k, v in body.items() if k not in ("type", "ref")}
    errors: dict[str, str] = {}
    data = clean_fields(raw, spec.fields, errors)
    if errors:
        raise FrameError("invalid", "Some fields are missing or wrong.", fields=errors)
    return spec, data
