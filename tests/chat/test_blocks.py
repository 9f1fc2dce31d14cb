"""Blocking a client (and optionally its IP address) from chat: one test per
rule of chat.agent_tools.blocks and of the refusal in session_request, the expiry sweep,
the chat.block frame, admin, and where the client's IP comes from."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat import services
from chat.agent_tools import blocks
from chat.errors import ChatForbidden, ChatNotFound, ChatUnavailable, InvalidState, MessageInvalid
from chat.models import ChatBlock, ChatKind, ChatSession, Message, SessionEvent, SessionStatus
from presence import tasks as presence_tasks
from presence.models import PresenceStatus
from realtime.client_ip import client_ip_from_scope
from tests.factories import TicketFactory, client_user
from tests.personas import ADMIN, AGENT1, AGENT2, ALICE, BOB, CAROL, SUPERVISOR
from tests.realtime.conftest import HOST, ORIGIN, receive_type, send, session_cookie

ALICE_IP = "203.0.113.7"


def request(client, ticket, ip: str | None = ALICE_IP) -> ChatSession:  # type: ignore[no-untyped-def]
    return services.session_request(
        client=client, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk, client_ip=ip
    )


def pre_ticket(client, ip: str | None = ALICE_IP) -> ChatSession:  # type: ignore[no-untyped-def]
    return services.session_request(
        client=client, kind=ChatKind.PRE_TICKET, subject="Help", client_ip=ip
    )


@pytest.fixture
def live(alice, alice_ticket, agent1) -> ChatSession:  # type: ignore[no-untyped-def]
    session = request(alice, alice_ticket)
    return services.session_join(session_id=session.pk, agent=agent1)


def end(session: ChatSession, agent) -> None:  # type: ignore[no-untyped-def]
    services.session_end(session_id=session.pk, agent=agent)


@pytest.mark.django_db
class TestBlock:
    def test_request_records_the_client_ip(self, alice, alice_ticket):
        assert request(alice, alice_ticket).client_ip == ALICE_IP

    def test_block_for_a_day_with_reason(self, live, alice, agent1, settings):
        assert settings.CHAT_BLOCK_SECONDS == 24 * 3600
        before = timezone.now()
        block = blocks.client_block(
            session_id=live.pk, agent=agent1, reason="  Abusive language ", block_ip=False
        )
        assert block.client == alice
        assert block.ip_address is None
        assert block.reason == "Abusive language"
        assert block.created_by == agent1
        assert block.session == live
        assert block.active and block.lifted_at is None
        expected = before + timedelta(hours=24)
        assert expected <= block.expires_at <= expected + timedelta(seconds=5)
        # Recorded in the chat's audit trail, not as a line the client sees.
        event = SessionEvent.objects.filter(session=live).latest("id")
        assert event.actor == agent1
        assert event.old_status == event.new_status == SessionStatus.ACTIVE
        assert "client blocked" in event.reason and "Abusive language" in event.reason
        assert not Message.objects.filter(session=live, body__icontains="block").exists()
        # The chat goes on.
        live.refresh_from_db()
        assert live.status == SessionStatus.ACTIVE

    def test_a_resent_block_is_made_once(self, live, agent1):
        supervisor = SUPERVISOR.create()
        key = str(uuid.uuid4())
        first = blocks.client_block(
            session_id=live.pk, agent=agent1, reason="spam", block_ip=False, client_id=key
        )
        events = SessionEvent.objects.filter(session=live).count()
        # The answer was lost; the browser sends the same try again.
        again = blocks.client_block(
            session_id=live.pk, agent=agent1, reason="spam", block_ip=False, client_id=key
        )
        assert again.pk == first.pk
        assert ChatBlock.objects.count() == 1
        assert SessionEvent.objects.filter(session=live).count() == events
        # Someone else's block with the same id is a block of its own.
        other = blocks.client_block(
            session_id=live.pk, agent=supervisor, reason="spam", block_ip=False, client_id=key
        )
        assert other.pk != first.pk and ChatBlock.objects.count() == 2

    def test_block_with_ip_takes_the_address_of_the_request(self, live, agent1):
        block = blocks.client_block(session_id=live.pk, agent=agent1, reason="spam", block_ip=True)
        assert block.ip_address == ALICE_IP
        assert "IP address" in SessionEvent.objects.filter(session=live).latest("id").reason

    def test_ip_block_needs_a_known_address(self, alice, alice_ticket, agent1):
        session = request(alice, alice_ticket, ip=None)
        services.session_join(session_id=session.pk, agent=agent1)
        with pytest.raises(InvalidState) as excinfo:
            blocks.client_block(session_id=session.pk, agent=agent1, reason="x", block_ip=True)
        assert excinfo.value.code == "ip_unknown"
        assert not ChatBlock.objects.exists()

    @pytest.mark.parametrize(
        ("reason", "code"),
        [("", "reason_required"), ("   ", "reason_required"), ("x" * 2001, "reason_too_long")],
    )
    def test_reason_required(self, live, agent1, reason, code):
        with pytest.raises(MessageInvalid) as excinfo:
            blocks.client_block(session_id=live.pk, agent=agent1, reason=reason, block_ip=False)
        assert excinfo.value.code == code
        assert not ChatBlock.objects.exists()

    def test_client_cannot_block(self, live, alice):
        with pytest.raises(ChatForbidden):
            blocks.client_block(session_id=live.pk, agent=alice, reason="x", block_ip=False)
        assert not ChatBlock.objects.exists()

    def test_other_agent_cannot_block(self, live, agent2):
        with pytest.raises(ChatNotFound):
            blocks.client_block(session_id=live.pk, agent=agent2, reason="x", block_ip=False)
        assert not ChatBlock.objects.exists()

    def test_supervisor_may_block_any_chat(self, live, alice):
        supervisor = SUPERVISOR.create()
        block = blocks.client_block(
            session_id=live.pk, agent=supervisor, reason="x", block_ip=False
        )
        assert block.client == alice and block.created_by == supervisor

    def test_unknown_chat(self, agent1):
        with pytest.raises(ChatNotFound):
            blocks.client_block(session_id=999_999, agent=agent1, reason="x", block_ip=False)

    def test_ended_chat_can_still_be_blocked(self, live, agent1, alice):
        end(live, agent1)
        block = blocks.client_block(session_id=live.pk, agent=agent1, reason="x", block_ip=False)
        assert block.client == alice


@pytest.mark.django_db
class TestRefusal:
    def test_blocked_client_cannot_request(self, live, alice, alice_ticket, agent1):
        blocks.client_block(session_id=live.pk, agent=agent1, reason="abuse", block_ip=False)
        end(live, agent1)
        count = ChatSession.objects.count()
        for attempt in (lambda: request(alice, alice_ticket), lambda: pre_ticket(alice)):
            with pytest.raises(ChatUnavailable) as excinfo:
                attempt()
            assert excinfo.value.code == "chat_unavailable"
        assert ChatSession.objects.count() == count

    def test_refusal_is_neutral(self, live, alice, agent1):
        blocks.client_block(session_id=live.pk, agent=agent1, reason="Abusive", block_ip=True)
        with pytest.raises(ChatUnavailable) as excinfo:
            pre_ticket(alice)
        message = str(excinfo.value)
        assert message == services.UNAVAILABLE_MESSAGE
        for word in ("block", "Abusive", ALICE_IP, "IP", "24", "hour", agent1.display_name):
            assert word.lower() not in message.lower()

    def test_blocked_ip_refuses_anyone_there(self, live, agent1, acme):
        blocks.client_block(session_id=live.pk, agent=agent1, reason="abuse", block_ip=True)
        colleague = BOB.create(company=acme)
        with pytest.raises(ChatUnavailable):
            pre_ticket(colleague, ip=ALICE_IP)
        # From another address the colleague may chat; the blocked client may not.
        assert pre_ticket(colleague, ip="198.51.100.9").status == SessionStatus.WAITING

    def test_client_block_without_ip_lets_others_at_that_address_chat(self, live, agent1, acme):
        blocks.client_block(session_id=live.pk, agent=agent1, reason="abuse", block_ip=False)
        colleague = BOB.create(company=acme)
        assert pre_ticket(colleague, ip=ALICE_IP).status == SessionStatus.WAITING

    def test_other_clients_are_not_affected(self, live, agent1):
        blocks.client_block(session_id=live.pk, agent=agent1, reason="abuse", block_ip=False)
        carol = CAROL.create()
        assert pre_ticket(carol, ip="198.51.100.20").status == SessionStatus.WAITING

    def test_lifted_block_no_longer_refuses(self, live, alice, agent1):
        block = blocks.client_block(session_id=live.pk, agent=agent1, reason="x", block_ip=True)
        end(live, agent1)
        admin = ADMIN.create()
        assert blocks.block_lift(block_id=block.pk, by=admin) is True
        assert blocks.block_lift(block_id=block.pk, by=admin) is False  # once
        block.refresh_from_db()
        assert not block.active and block.lifted_by == admin and block.lifted_at is not None
        assert pre_ticket(alice).status == SessionStatus.WAITING

    def test_expired_block_stops_counting_before_the_sweep(self, live, alice, agent1):
        blocks.client_block(session_id=live.pk, agent=agent1, reason="x", block_ip=True)
        end(live, agent1)
        almost = timezone.now() + timedelta(hours=23, minutes=59)
        with time_machine.travel(almost, tick=False), pytest.raises(ChatUnavailable):
            pre_ticket(alice)
        with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1), tick=False):
            assert pre_ticket(alice).status == SessionStatus.WAITING


@pytest.mark.django_db
class TestExpirySweep:
    def test_sweep_ends_expired_blocks_once(self, live, alice, agent1):
        block = blocks.client_block(session_id=live.pk, agent=agent1, reason="x", block_ip=False)
        other = ChatBlock.objects.create(
            client=CAROL.create(), reason="still on", expires_at=timezone.now() + timedelta(days=2)
        )
        assert blocks.sweep_block_expiry(now=timezone.now()) == 0
        later = timezone.now() + timedelta(hours=24, seconds=1)
        assert blocks.sweep_block_expiry(now=later) == 1
        assert blocks.sweep_block_expiry(now=later) == 0  # idempotent
        block.refresh_from_db()
        other.refresh_from_db()
        assert not block.active
        assert block.lifted_at is None and block.lifted_by is None  # expired, not lifted
        assert other.active

    def test_sweep_leaves_lifted_blocks_alone(self, live, agent1):
        block = blocks.client_block(session_id=live.pk, agent=agent1, reason="x", block_ip=False)
        blocks.block_lift(block_id=block.pk, by=agent1)
        assert blocks.sweep_block_expiry(now=timezone.now() + timedelta(days=2)) == 0

    def test_beat_task_runs_the_block_sweep(self, live, agent1):
        assert "chat.agent_tools.blocks.sweep_block_expiry" in presence_tasks.SWEEPS
        block = blocks.client_block(session_id=live.pk, agent=agent1, reason="x", block_ip=False)
        results = presence_tasks.run_sweeps(now=timezone.now() + timedelta(days=1, seconds=1))
        assert results["chat.agent_tools.blocks.sweep_block_expiry"] == 1
        block.refresh_from_db()
        assert not block.active


# --- Admin ------------------------------------------------------------------------------


@pytest.fixture
def admin_user():  # type: ignore[no-untyped-def]
    return ADMIN.create()


@pytest.fixture
def admin_client(admin_user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(admin_user)
    return client


def results(html: str) -> str:
    """The rows of an admin change list (not its filters)."""
    start = html.index('id="result_list"')
    return html[start : html.index("</table>", start)]


@pytest.mark.django_db
class TestAdmin:
    def test_list_search_and_filter(self, admin_client, live, agent1, alice):
        blocks.client_block(
            session_id=live.pk, agent=agent1, reason="<b>abusive</b> language", block_ip=True
        )
        ChatBlock.objects.create(
            client=client_user(email="zed@other.example", full_name="Zed Zimmer"),
            reason="old",
            expires_at=timezone.now() - timedelta(days=1),
            active=False,
        )
        url = reverse("admin:chat_chatblock_changelist")
        page = admin_client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        for text in (
            alice.display_name,
            ALICE_IP,
            "&lt;b&gt;abusive&lt;/b&gt; language",
            agent1.display_name,
        ):
            assert text in html, text
        assert "<b>abusive</b>" not in html
        zed = ChatBlock.objects.get(reason="old").client.display_name
        assert zed in results(html)
        # The "by" filter offers those who blocked someone, not every user.
        assert f'created_by__id__exact={agent1.pk}"' in html
        assert f'created_by__id__exact={alice.pk}"' not in html

        def listed(**params: str) -> set[str]:
            table = results(admin_client.get(url, params).content.decode())
            return {name for name in (alice.display_name, zed) if name in table}

        assert listed(q=ALICE_IP) == {alice.display_name}
        assert listed(q="zed@other") == {zed}
        assert listed(q="abusive") == {alice.display_name}
        assert listed(active__exact="1") == {alice.display_name}
        assert listed(active__exact="0") == {zed}

    def test_lift_by_unticking_active(self, admin_client, admin_user, live, agent1, alice):
        block = blocks.client_block(session_id=live.pk, agent=agent1, reason="x", block_ip=True)
        url = reverse("admin:chat_chatblock_change", args=[block.pk])
        assert admin_client.get(url).status_code == 200
        response = admin_client.post(
            url,
            {
                "client": alice.pk,
                "ip_address": ALICE_IP,
                "reason": "x, reviewed",
                "expires_at_0": timezone.localtime(block.expires_at).strftime("%Y-%m-%d"),
                "expires_at_1": timezone.localtime(block.expires_at).strftime("%H:%M:%S"),
                # "active" left out: unticked
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        block.refresh_from_db()
        assert not block.active
        assert block.reason == "x, reviewed"
        assert block.lifted_by == admin_user and block.lifted_at is not None
        end(live, agent1)
        assert pre_ticket(alice).status == SessionStatus.WAITING

    def test_lift_action(self, admin_client, admin_user, live, agent1):
        block = blocks.client_block(session_id=live.pk, agent=agent1, reason="x", block_ip=False)
        response = admin_client.post(
            reverse("admin:chat_chatblock_changelist"),
            {"action": "lift_blocks", "_selected_action": [block.pk]},
            follow=True,
        )
        assert "1 block(s) lifted" in response.content.decode()
        block.refresh_from_db()
        assert not block.active and block.lifted_by == admin_user

    def test_add_block_in_admin(self, admin_client, admin_user, alice, alice_ticket):
        expires = timezone.localtime(timezone.now() + timedelta(hours=2))
        response = admin_client.post(
            reverse("admin:chat_chatblock_add"),
            {
                "client": alice.pk,
                "ip_address": "",
                "reason": "phoned in abuse",
                "expires_at_0": expires.strftime("%Y-%m-%d"),
                "expires_at_1": expires.strftime("%H:%M:%S"),
                "active": "on",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        block = ChatBlock.objects.get()
        assert block.created_by == admin_user and block.active
        with pytest.raises(ChatUnavailable):
            request(alice, alice_ticket)

    def test_active_block_must_end_in_the_future(self, admin_client, alice):
        past = timezone.localtime(timezone.now() - timedelta(hours=1))
        response = admin_client.post(
            reverse("admin:chat_chatblock_add"),
            {
                "client": alice.pk,
                "reason": "x",
                "expires_at_0": past.strftime("%Y-%m-%d"),
                "expires_at_1": past.strftime("%H:%M:%S"),
                "active": "on",
            },
        )
        assert response.status_code == 200
        assert "must end in the future" in response.content.decode()
        assert not ChatBlock.objects.exists()

    def test_staff_may_not_block_a_staff_member(self, admin_client, agent1):
        expires = timezone.localtime(timezone.now() + timedelta(hours=2))
        response = admin_client.post(
            reverse("admin:chat_chatblock_add"),
            {
                "client": agent1.pk,
                "reason": "x",
                "expires_at_0": expires.strftime("%Y-%m-%d"),
                "expires_at_1": expires.strftime("%H:%M:%S"),
                "active": "on",
            },
        )
        assert response.status_code == 200
        assert not ChatBlock.objects.exists()

    def test_clients_and_agents_cannot_open_block_admin(self, client, alice, agent1):
        url = reverse("admin:chat_chatblock_changelist")
        for user in (alice, agent1):
            client.force_login(user)
            assert client.get(url).status_code == 302


# --- Where the client's IP comes from ----------------------------------------------------


class TestClientIp:
    def scope(self, peer: str | None, *forwarded: str) -> dict[str, Any]:
        headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
        return {"client": (peer, 51000) if peer else None, "headers": headers}

    def test_peer_address_without_trusted_proxies(self):
        scope = self.scope("198.51.100.4", "203.0.113.66")
        assert client_ip_from_scope(scope, trusted_proxies=0) == "198.51.100.4"

    def test_one_trusted_proxy_takes_the_address_it_appended(self):
        # The client sent a forged header; nginx appended the real peer.
        scope = self.scope("10.0.0.2", "1.2.3.4, 203.0.113.9")
        assert client_ip_from_scope(scope, trusted_proxies=1) == "203.0.113.9"

    def test_two_trusted_proxies(self):
        scope = self.scope("10.0.0.3", "1.2.3.4, 203.0.113.9, 10.0.0.2")
        assert client_ip_from_scope(scope, trusted_proxies=2) == "203.0.113.9"

    def test_several_header_lines_count_as_one_list(self):
        scope = self.scope("10.0.0.3", "1.2.3.4", "203.0.113.9")
        assert client_ip_from_scope(scope, trusted_proxies=1) == "203.0.113.9"

    def test_fewer_hops_than_proxies_and_no_header(self):
        assert client_ip_from_scope(self.scope("10.0.0.2", "203.0.113.9"), trusted_proxies=2) == (
            "203.0.113.9"
        )
        assert client_ip_from_scope(self.scope("10.0.0.2"), trusted_proxies=1) == "10.0.0.2"

    def test_garbage_and_ipv6(self):
        assert client_ip_from_scope(self.scope("not-an-ip"), trusted_proxies=0) is None
        assert client_ip_from_scope(self.scope(None), trusted_proxies=0) is None
        assert client_ip_from_scope(self.scope("10.0.0.2", "<script>"), trusted_proxies=1) is None
        assert client_ip_from_scope(self.scope("2001:DB8::1"), trusted_proxies=0) == "2001:db8::1"
        assert client_ip_from_scope(
            self.scope("10.0.0.2", "[2001:db8::2]:443"), trusted_proxies=1
        ) == ("2001:db8::2")

    def test_setting_is_the_default(self, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        assert client_ip_from_scope(self.scope("10.0.0.2", "203.0.113.9")) == "203.0.113.9"


# --- The chat.block frame -------------------------------------------------------------------


@sync_to_async
def make_people() -> dict[str, Any]:
    alice = ALICE.create()
    agent1 = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    agent2 = AGENT2.create(presence=PresenceStatus.AVAILABLE)
    ticket = TicketFactory(contact=alice.contact, subject="Printer on fire")
    return {"alice": alice, "agent1": agent1, "agent2": agent2, "ticket": ticket}


async def connect_from(user, peer: str) -> WebsocketCommunicator:  # type: ignore[no-untyped-def]
    """A socket whose peer address is ``peer`` (WebsocketCommunicator sets none)."""
    from config.asgi import application

    cookie = await sync_to_async(session_cookie)(user)
    communicator = WebsocketCommunicator(
        application, "/ws/", headers=[HOST, ORIGIN, (b"cookie", cookie)]
    )
    communicator.scope["client"] = (peer, 50123)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


async def expect_error(ws, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    frame = await receive_type(ws, "error")
    assert frame["code"] == code, frame
    return frame


@pytest.mark.django_db(transaction=True)
async def test_block_frame_and_the_refused_request(connect) -> None:
    people = await make_people()
    alice_ws = await connect_from(people["alice"], ALICE_IP)
    agent_ws = await connect(people["agent1"])
    try:
        await send(
            alice_ws,
            {"type": "chat.request", "kind": "post_ticket", "ticket_id": people["ticket"].pk},
        )
        state = await receive_type(alice_ws, "chat.state")
        session_id = state["session"]["id"]
        assert "client_ip" not in state["session"]  # not part of any payload
        stored = await sync_to_async(lambda: ChatSession.objects.get(pk=session_id).client_ip)()
        assert stored == ALICE_IP
        await send(agent_ws, {"type": "chat.join", "session_id": session_id})
        await receive_type(agent_ws, "chat.state")

        await send(
            agent_ws,
            {
                "type": "chat.block",
                "session_id": session_id,
                "reason": "Abusive",
                "block_ip": True,
                "ref": "b",
            },
        )
        reply = await receive_type(agent_ws, "chat.blocked")
        assert reply["ref"] == "b"
        assert reply["session_id"] == session_id
        assert reply["block"]["client"]["id"] == people["alice"].pk
        assert reply["block"]["ip_address"] == ALICE_IP
        assert reply["block"]["reason"] == "Abusive"
        assert reply["block"]["expires_at"]

        # With a client_id, a resend (its answer lost) returns the same block.
        resend = {
            "type": "chat.block",
            "session_id": session_id,
            "reason": "Abusive",
            "client_id": str(uuid.uuid4()),
        }
        ids = []
        for _ in range(2):
            await send(agent_ws, resend)
            ids.append((await receive_type(agent_ws, "chat.blocked"))["block"]["id"])
        assert ids[0] == ids[1]
        assert await sync_to_async(ChatBlock.objects.count)() == 2
        await send(agent_ws, {**resend, "client_id": "again"})
        assert "client_id" in (await expect_error(agent_ws, "invalid"))["fields"]

        # A new request from alice is refused, neutrally.
        await send(alice_ws, {"type": "chat.request", "kind": "pre_ticket", "subject": "Again"})
        error = await expect_error(alice_ws, "chat_unavailable")
        assert error["message"] == services.UNAVAILABLE_MESSAGE
        assert await sync_to_async(ChatSession.objects.count)() == 1
    finally:
        await alice_ws.disconnect()

    # Anyone else from that address is refused too.
    bob = await sync_to_async(BOB.create)()  # Alice's colleague at Acme
    bob_ws = await connect_from(bob, ALICE_IP)
    try:
        await send(bob_ws, {"type": "chat.request", "kind": "pre_ticket", "subject": "Hi"})
        await expect_error(bob_ws, "chat_unavailable")
    finally:
        await bob_ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_block_frame_refusals(connect) -> None:
    people = await make_people()
    alice_ws = await connect(people["alice"])
    agent_ws = await connect(people["agent1"])
    other_ws = await connect(people["agent2"])
    await send(
        alice_ws, {"type": "chat.request", "kind": "post_ticket", "ticket_id": people["ticket"].pk}
    )
    session_id = (await receive_type(alice_ws, "chat.state"))["session"]["id"]
    await send(agent_ws, {"type": "chat.join", "session_id": session_id})
    await receive_type(agent_ws, "chat.state")

    # A client may not send the frame at all.
    await send(alice_ws, {"type": "chat.block", "session_id": session_id, "reason": "x"})
    await expect_error(alice_ws, "forbidden")
    # An agent who is not in the chat cannot tell it exists.
    await send(other_ws, {"type": "chat.block", "session_id": session_id, "reason": "x"})
    await expect_error(other_ws, "not_found")
    # Reason required; fields validated.
    await send(agent_ws, {"type": "chat.block", "session_id": session_id, "reason": "  "})
    await expect_error(agent_ws, "reason_required")
    await send(agent_ws, {"type": "chat.block", "session_id": session_id})
    error = await expect_error(agent_ws, "invalid")
    assert "reason" in error["fields"]
    await send(
        agent_ws, {"type": "chat.block", "session_id": session_id, "reason": "x", "block_ip": "yes"}
    )
    error = await expect_error(agent_ws, "invalid")
    assert "block_ip" in error["fields"]
    # No address known for this socket (the test communicator has no peer).
    await send(
        agent_ws, {"type": "chat.block", "session_id": session_id, "reason": "x", "block_ip": True}
    )
    await expect_error(agent_ws, "ip_unknown")
    await send(agent_ws, {"type": "chat.block", "session_id": 999_999, "reason": "x"})
    await expect_error(agent_ws, "not_found")
    assert await sync_to_async(ChatBlock.objects.count)() == 0
    # The client's socket heard nothing about any of it.
    await send(alice_ws, {"type": "ping", "ref": "p"})
    frame = await alice_ws.receive_json_from(timeout=5)
    while frame["type"] != "pong":
        assert "block" not in frame["type"], frame
        frame = await alice_ws.receive_json_from(timeout=5)
