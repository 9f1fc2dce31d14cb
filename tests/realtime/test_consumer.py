"""The /ws/ socket rules: auth, origin, frame validation, size, rate, presence."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from presence.models import AgentConnection, AgentPresence, PresenceStatus
from tests.factories import AgentFactory
from tests.personas import AGENT1, AGENT2, ALICE, SUPERVISOR
from tests.realtime.conftest import receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)


async def make(factory, **kwargs):  # type: ignore[no-untyped-def]
    return await sync_to_async(factory)(**kwargs)


async def assert_closed(communicator: WebsocketCommunicator, code: int) -> None:
    """Skip frames until the server closes; the close code must be ``code``."""
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            assert output.get("code") == code, output
            return


async def assert_open(communicator: WebsocketCommunicator) -> None:
    await send(communicator, {"type": "ping", "ref": "still-open"})
    pong = await receive_type(communicator, "pong")
    assert pong["ref"] == "still-open"


# --- Handshake -------------------------------------------------------------------
async def test_anonymous_is_accepted_then_closed_4401(connect) -> None:
    communicator = await connect(None)
    await assert_closed(communicator, 4401)


async def test_inactive_user_is_closed_4401(connect) -> None:
    agent = await make(AgentFactory, is_active=False)
    communicator = await connect(agent, read_hello=False)
    await assert_closed(communicator, 4401)


async def test_foreign_origin_is_rejected(connect) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(
        agent, origin=(b"origin", b"https://evil.example"), read_hello=False
    )
    assert not communicator.accepted
    assert not await sync_to_async(AgentConnection.objects.exists)()


async def test_missing_origin_is_rejected(connect) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent, origin=None, read_hello=False)
    assert not communicator.accepted


async def test_hello_and_connection_tracking(connect, settings) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent, read_hello=False)
    hello = await communicator.receive_json_from(timeout=5)
    assert hello == {
        "type": "hello",
        "user": {"id": agent.pk, "name": agent.display_name, "role": "agent", "is_staff": True},
        "heartbeat_seconds": settings.PRESENCE_HEARTBEAT_SECONDS,
        "max_frame_bytes": settings.WS_MAX_FRAME_BYTES,
    }
    assert await sync_to_async(AgentConnection.objects.filter(user=agent).count)() == 1
    await communicator.disconnect()
    assert not await sync_to_async(AgentConnection.objects.filter(user=agent).exists)()


async def test_client_sockets_are_tracked_too(connect) -> None:
    alice = await make(ALICE.create)
    communicator = await connect(alice)
    assert await sync_to_async(AgentConnection.objects.filter(user=alice).exists)()
    await assert_open(communicator)


# --- Bad frames: an error frame, the socket stays open ----------------------------
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('"ping"', "bad_frame"),
        ("{}", "bad_frame"),
        ('{"type": 7}', "bad_frame"),
        ('{"type": "no.such.frame", "ref": "r1"}', "unknown_type"),
        ('{"type": "presence.set", "ref": 5}', "invalid"),
        ('{"type": "presence.set", "status": "asleep", "ref": "r2"}', "invalid"),
        ('{"type": "presence.set", "status": "away", "extra": 1}', "invalid"),
        ('{"type": "ping", "ref": {"nested": true}}', "invalid"),
    ],
)
async def test_bad_frame_gets_error_and_socket_stays_open(connect, raw: str, code: str) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    await communicator.send_to(text_data=raw)
    error = await receive_type(communicator, "error")
    assert error["code"] == code
    assert error["message"]
    body = json.loads(raw) if code != "bad_json" else None
    if isinstance(body, dict) and isinstance(body.get("ref"), str | int):
        assert error["ref"] == body["ref"]
    else:
        assert "ref" not in error
    await assert_open(communicator)


async def test_missing_field_names_the_field(connect) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    await send(communicator, {"type": "presence.set", "ref": "x"})
    error = await receive_type(communicator, "error")
    assert error == {
        "type": "error",
        "code": "invalid",
        "message": "Some fields are missing or wrong.",
        "fields": {"status": "is required"},
        "ref": "x",
    }


async def test_binary_frame_is_refused_with_error(connect) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    await communicator.send_to(bytes_data=b"\x00\x01")
    error = await receive_type(communicator, "error")
    assert error["code"] == "bad_frame"
    await assert_open(communicator)


async def test_oversize_frame_closes_4009(connect, settings) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    # Valid JSON, so only the size can be the reason.
    body = json.dumps({"type": "ping", "pad": "x" * settings.WS_MAX_FRAME_BYTES})
    await communicator.send_to(text_data=body)
    await assert_closed(communicator, 4009)


async def test_frame_at_the_limit_is_parsed(connect, settings) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    head = '{"type":"ping","pad":"'
    body = head + "x" * (settings.WS_MAX_FRAME_BYTES - len(head) - 2) + '"}'
    assert len(body.encode()) == settings.WS_MAX_FRAME_BYTES
    await communicator.send_to(text_data=body)
    error = await receive_type(communicator, "error")
    assert error["code"] == "invalid"  # "pad" is an unknown field, but it was read
    await assert_open(communicator)


async def test_multibyte_oversize_counts_bytes(connect, settings) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    # Fewer characters than the limit, more bytes.
    body = '{"type":"ping","pad":"' + "é" * (settings.WS_MAX_FRAME_BYTES // 2 + 10) + '"}'
    assert len(body) < settings.WS_MAX_FRAME_BYTES < len(body.encode())
    await communicator.send_to(text_data=body)
    await assert_closed(communicator, 4009)


async def test_flooding_closes_4429(connect, settings) -> None:
    settings.WS_RATE_LIMIT_FRAMES = 5
    settings.WS_RATE_LIMIT_WINDOW_SECONDS = 60
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    for index in range(6):
        await send(communicator, {"type": "ping", "ref": index})
    for index in range(5):
        assert (await receive_type(communicator, "pong"))["ref"] == index
    await assert_closed(communicator, 4429)


async def test_rate_limit_is_per_connection(connect, settings) -> None:
    settings.WS_RATE_LIMIT_FRAMES = 3
    settings.WS_RATE_LIMIT_WINDOW_SECONDS = 60
    agent = await make(AgentFactory)
    first = await connect(agent)
    second = await connect(agent)
    for communicator in (first, second):
        for index in range(3):
            await send(communicator, {"type": "ping", "ref": index})
            await receive_type(communicator, "pong")


# --- Ping / pong and refresh --------------------------------------------------------
async def test_ping_pong(connect) -> None:
    alice = await make(ALICE.create)
    communicator = await connect(alice)
    await send(communicator, {"type": "ping"})
    pong = await communicator.receive_json_from(timeout=5)
    assert pong["type"] == "pong" and "ref" not in pong
    await send(communicator, {"type": "ping", "ref": "abc"})
    pong = await communicator.receive_json_from(timeout=5)
    assert pong["type"] == "pong" and pong["ref"] == "abc"


async def test_an_apps_heartbeat_hook_adds_its_fields_to_the_pong(connect) -> None:
    from realtime import registry
    from realtime.groups import STAFF_GROUP, user_group

    @registry.on_heartbeat
    async def groups_of(ctx):  # type: ignore[no-untyped-def]
        return {"test_groups": sorted(ctx.joined_groups)}

    try:
        agent = await make(AgentFactory)
        communicator = await connect(agent)
        await send(communicator, {"type": "ping", "ref": "h"})
        pong = await communicator.receive_json_from(timeout=5)
        assert pong["test_groups"] == sorted([user_group(agent.pk), STAFF_GROUP])
        assert pong["type"] == "pong" and pong["ref"] == "h"
    finally:
        registry._heartbeat_hooks.remove(groups_of)


@pytest.fixture
def fast_refresh(settings):  # type: ignore[no-untyped-def]
    # Sockets are re-checked every max(1 s, (stale - heartbeat) / 2), on the
    # first tick of realtime.login_recheck after that.
    settings.PRESENCE_HEARTBEAT_SECONDS = 1
    settings.PRESENCE_STALE_SECONDS = 2


async def eventually(check, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not await sync_to_async(check)():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.1)


async def test_an_idle_socket_keeps_its_row_fresh_and_registers_again_once_swept(
    connect, fast_refresh
) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    first_seen = await sync_to_async(lambda: AgentConnection.objects.get().last_seen)()
    await eventually(lambda: AgentConnection.objects.get().last_seen > first_seen)
    await sync_to_async(AgentConnection.objects.all().delete)()  # as a sweep would
    await eventually(AgentConnection.objects.filter(user=agent).exists)
    await assert_open(communicator)


async def test_logout_elsewhere_ends_the_socket_without_a_frame(connect, fast_refresh) -> None:
    from django.contrib.sessions.models import Session

    agent = await make(AgentFactory)
    communicator = await connect(agent)
    await assert_open(communicator)
    await sync_to_async(Session.objects.all().delete)()
    await assert_closed(communicator, 4401)


async def test_deactivated_user_is_closed(connect, fast_refresh) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    agent.is_active = False
    await sync_to_async(agent.save)()
    await assert_closed(communicator, 4401)


async def test_password_change_elsewhere_ends_the_socket(connect, fast_refresh) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    agent.set_password("a new one, chosen elsewhere")
    await sync_to_async(agent.save)()
    await assert_closed(communicator, 4401)


async def test_role_change_ends_the_socket_4403(connect, fast_refresh) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    agent.role = "supervisor"
    await sync_to_async(agent.save)()
    await assert_closed(communicator, 4403)


async def test_a_socket_still_logged_in_stays_open(connect, fast_refresh) -> None:
    agent = await make(AgentFactory)
    communicator = await connect(agent)
    await asyncio.sleep(2.5)  # re-checked at least once
    await assert_open(communicator)


async def test_a_socket_is_kept_in_the_groups_its_apps_choose(
    connect, fast_refresh, monkeypatch
) -> None:
    from channels.layers import get_channel_layer

    from realtime import registry

    agent = await make(AgentFactory)
    wanted = {"groups": {"test.first"}}
    registry.autodiscover()
    # One app, choosing from what the test says rather than the database.
    monkeypatch.setattr(
        registry, "_groups_hooks", [lambda users: {channel: wanted["groups"] for channel in users}]
    )
    communicator = await connect(agent)
    layer = get_channel_layer()
    await layer.group_send("test.first", {"type": "test.news", "n": 1})
    assert (await receive_type(communicator, "test.news"))["n"] == 1
    # The app's choice changes; the next re-check follows it.
    wanted["groups"] = {"test.second"}
    # Presence's recheck hook refreshes the socket's row in the tick that then
    # chooses its groups again.
    seen = await sync_to_async(AgentConnection.objects.values_list("last_seen", flat=True).get)()
    await eventually(lambda: AgentConnection.objects.filter(last_seen__gt=seen).exists(), 15)
    await asyncio.sleep(0.5)
    await layer.group_send("test.first", {"type": "test.news", "n": 2})
    await layer.group_send("test.second", {"type": "test.news", "n": 3})
    assert (await receive_type(communicator, "test.news"))["n"] == 3


# --- Presence frames ------------------------------------------------------------------
async def test_presence_set_by_client_is_forbidden(connect) -> None:
    alice = await make(ALICE.create)
    communicator = await connect(alice)
    await send(communicator, {"type": "presence.set", "status": "available", "ref": 1})
    error = await receive_type(communicator, "error")
    assert error["code"] == "forbidden" and error["ref"] == 1
    assert not await sync_to_async(AgentPresence.objects.exists)()
    await assert_open(communicator)


async def test_presence_snapshot_by_client_is_forbidden(connect) -> None:
    alice = await make(ALICE.create)
    communicator = await connect(alice)
    await send(communicator, {"type": "presence.snapshot"})
    assert (await receive_type(communicator, "error"))["code"] == "forbidden"


async def test_staff_see_a_client_come_and_go(connect) -> None:
    agent = await make(AgentFactory)
    alice = await make(ALICE.create)
    console = await connect(agent)
    portal = await connect(alice)
    came = await receive_type(console, "client.presence")
    assert came == {"type": "client.presence", "user_id": alice.pk, "online": True}
    await portal.disconnect()
    went = await receive_type(console, "client.presence")
    assert went == {"type": "client.presence", "user_id": alice.pk, "online": False}


async def test_presence_set_reaches_other_agents_live(connect) -> None:
    agent1 = await make(AGENT1.create)
    supervisor = await make(SUPERVISOR.create)
    alice = await make(ALICE.create)
    agent1_ws = await connect(agent1)
    other = await connect(supervisor)
    portal = await connect(alice)

    await send(agent1_ws, {"type": "presence.set", "status": "available", "ref": "s1"})
    reply = await receive_type(agent1_ws, "presence.state")
    assert reply == {"type": "presence.state", "status": "available", "ref": "s1"}

    changed = await receive_type(other, "presence.changed")
    assert changed["user_id"] == agent1.pk
    assert changed["name"] == AGENT1.full_name
    assert changed["status"] == "available"
    assert changed["changed_at"]
    # The agent's own other tabs hear it too (same group).
    assert (await receive_type(agent1_ws, "presence.changed"))["status"] == "available"
    # Clients are never in the staff group.
    assert await portal.receive_nothing(timeout=0.3)

    presence = await sync_to_async(AgentPresence.objects.get)(user=agent1)
    assert presence.status == PresenceStatus.AVAILABLE
    assert presence.offline_deadline is None


async def test_presence_snapshot(connect) -> None:
    agent1 = await make(AGENT1.create)
    agent2 = await make(AGENT2.create)
    await make(ALICE.create)
    agent1_ws = await connect(agent1)
    agent2_ws = await connect(agent2)
    await send(agent2_ws, {"type": "presence.set", "status": "away"})
    await receive_type(agent2_ws, "presence.state")

    await send(agent1_ws, {"type": "presence.snapshot", "ref": "snap"})
    snapshot = await receive_type(agent1_ws, "presence.snapshot")
    assert snapshot == {
        "type": "presence.snapshot",
        "ref": "snap",
        "me": {"user_id": agent1.pk, "status": "offline"},
        "agents": sorted(  # by name
            [
                {"user_id": agent1.pk, "name": AGENT1.full_name, "status": "offline"},
                {"user_id": agent2.pk, "name": AGENT2.full_name, "status": "away"},
            ],
            key=lambda agent: agent["name"],
        ),
    }


async def test_closing_last_socket_of_available_agent_starts_grace(connect) -> None:
    agent = await make(AgentFactory)
    first = await connect(agent)
    second = await connect(agent)
    await send(first, {"type": "presence.set", "status": "available"})
    await receive_type(first, "presence.state")

    await first.disconnect()
    presence = await sync_to_async(AgentPresence.objects.get)(user=agent)
    assert presence.offline_deadline is None  # one console still open

    await second.disconnect()
    presence = await sync_to_async(AgentPresence.objects.get)(user=agent)
    assert presence.status == PresenceStatus.AVAILABLE
    assert presence.offline_deadline is not None

    await connect(agent)  # back within the grace period
    presence = await sync_to_async(AgentPresence.objects.get)(user=agent)
    assert presence.offline_deadline is None


async def test_sweep_flip_is_relayed_to_agents(connect) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from presence.services import presence_sweep

    leaver = await make(AgentFactory)
    watcher = await make(AgentFactory)
    gone = await connect(leaver)
    await send(gone, {"type": "presence.set", "status": "available"})
    await receive_type(gone, "presence.state")
    await gone.disconnect()
    observer = await connect(watcher)

    flipped = await sync_to_async(presence_sweep)(now=timezone.now() + timedelta(hours=1))
    assert flipped == 1
    changed = await receive_type(observer, "presence.changed")
    assert changed["user_id"] == leaver.pk and changed["status"] == "offline"


# --- Registry: another app's frames and event hooks -----------------------------------
async def test_registered_frame_and_event_hook(connect) -> None:
    from realtime import registry as frames
    from realtime.broadcast import send_now
    from realtime.groups import user_group

    @frames.frame("test.echo", audience=frames.Audience.STAFF, fields={"n": frames.Int()})
    async def echo(ctx, data):  # type: ignore[no-untyped-def]
        await ctx.join_group("test.room")
        return {"type": "test.echoed", "n": data["n"], "user_id": ctx.user.pk}

    @frames.frame("test.silent")
    async def silent(ctx, data):  # type: ignore[no-untyped-def]
        return None

    @frames.on_event("test.hidden")
    async def hidden(ctx, event):  # type: ignore[no-untyped-def]
        return None

    @frames.on_event("test.rewritten")
    async def rewritten(ctx, event):  # type: ignore[no-untyped-def]
        return {"type": "test.rewritten", "for": ctx.user.pk}

    @frames.frame("test.boom")
    async def boom(ctx, data):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")

    try:
        agent = await make(AgentFactory)
        communicator = await connect(agent)
        await send(communicator, {"type": "test.echo", "n": 3, "ref": "e"})
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "test.echoed",
            "n": 3,
            "user_id": agent.pk,
            "ref": "e",
        }
        await send(communicator, {"type": "test.silent", "ref": "q"})
        assert await communicator.receive_json_from(timeout=5) == {"type": "ack", "ref": "q"}
        await send(communicator, {"type": "test.silent"})
        assert await communicator.receive_nothing(timeout=0.2)

        await send(communicator, {"type": "test.boom", "ref": "b"})
        error = await communicator.receive_json_from(timeout=5)
        assert error["code"] == "internal" and error["ref"] == "b"
        await assert_open(communicator)

        await sync_to_async(send_now)("test.room", {"type": "test.plain", "x": 1})
        assert await communicator.receive_json_from(timeout=5) == {"type": "test.plain", "x": 1}
        await sync_to_async(send_now)(user_group(agent.pk), {"type": "test.hidden"})
        await sync_to_async(send_now)(user_group(agent.pk), {"type": "test.rewritten"})
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "test.rewritten",
            "for": agent.pk,
        }
    finally:
        for name in ("test.echo", "test.silent", "test.boom"):
            frames._frames.pop(name, None)
        for name in ("test.hidden", "test.rewritten"):
            frames._event_hooks.pop(name, None)


async def test_an_event_naming_a_socket_to_leave_out_skips_it_on_any_layer(connect) -> None:
    """A layer that cannot leave a socket out of a group send (the stock one)
    delivers the event with the socket's name: that socket drops it, the
    others relay it without the name."""
    from channels.layers import get_channel_layer
    from channels_redis.core import RedisChannelLayer

    from realtime.broadcast import EXCEPT_CHANNEL_KEY
    from realtime.groups import user_group

    agent = await make(AgentFactory)
    first, second = await connect(agent), await connect(agent)
    names = await sync_to_async(
        lambda: list(AgentConnection.objects.order_by("pk").values_list("channel_name", flat=True))
    )()
    layer = get_channel_layer()
    await RedisChannelLayer.group_send(  # the stock send: every member gets it
        layer, user_group(agent.pk), {"type": "test.note", EXCEPT_CHANNEL_KEY: names[0]}
    )
    assert await receive_type(second, "test.note") == {"type": "test.note"}
    assert await first.receive_nothing(timeout=0.3)


async def test_an_event_for_a_socket_the_browser_just_closed_is_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # daphne raises this when the browser has gone and the consumer has not
    # yet processed its disconnect: not an error of ours, and not one to log
    # with a traceback for every event still on its way.
    from autobahn.exception import Disconnected

    from realtime.consumer import SwitchboardConsumer

    consumer = SwitchboardConsumer()
    consumer.channel_name = "specific.test!gone"
    consumer._accepted = True

    async def gone(*args: object, **kwargs: object) -> None:
        raise Disconnected("Attempt to send on a closed protocol")

    consumer.send = gone  # type: ignore[method-assign]
    with caplog.at_level("DEBUG", logger="realtime.consumer"):
        await consumer._relay({"type": "test.event", "n": 1})
    assert [r.levelname for r in caplog.records] == ["DEBUG"]
