"""Consumer tests of visitor info and page views over a real channel layer
(Redis): what a chat request records from the socket (address, user agent,
first-visit cookie, landing page), the chat.visitor and chat.page_view
frames with their refusals for client, agent in the chat, other agent,
supervisor and anonymous, live delivery to staff only, and that a client's
socket never carries visitor info or a page view."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from chat.models import ChatSession, PageView, SessionStatus
from presence.models import PresenceStatus
from realtime.broadcast import event
from realtime.groups import user_group
from tests.factories import TicketFactory
from tests.personas import AGENT1, AGENT2, ALICE, BOB, SUPERVISOR
from tests.realtime.conftest import HOST, ORIGIN, receive_type, send
from tests.realtime.test_consumer import assert_closed

pytestmark = pytest.mark.django_db(transaction=True)

IP = "203.0.113.7"
UA = "Mozilla/5.0 (X11; Linux x86_64) VisitorTest/1.0"
XSS = "<img src=x onerror=alert(1)>"


@sync_to_async
def make_people() -> dict[str, Any]:
    alice = ALICE.create()
    bob = BOB.create()  # Alice's colleague at Acme
    agent1 = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    agent2 = AGENT2.create(presence=PresenceStatus.AVAILABLE)
    supervisor = SUPERVISOR.create()
    ticket = TicketFactory(contact=alice.contact, subject="Printer prints blank pages")
    return {
        "alice": alice,
        "bob": bob,
        "agent1": agent1,
        "agent2": agent2,
        "supervisor": supervisor,
        "ticket": ticket,
    }


@sync_to_async
def browse(user, *paths: str) -> bytes:  # type: ignore[no-untyped-def]
    """Log in and open portal pages as a browser would; the cookie header of
    that browser (session and sb_first_visit) for its socket."""
    client = Client()
    client.force_login(user)
    for path in paths:
        client.get(path)
    return "; ".join(f"{name}={m.value}" for name, m in client.cookies.items()).encode()


@pytest.fixture
async def open_socket():  # type: ignore[no-untyped-def]
    """``await open_socket(cookie, peer=..., user_agent=...)``: a socket with
    a peer address and browser headers (WebsocketCommunicator sets neither)."""
    from config.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def _open(cookie: bytes, *, peer: str = IP, user_agent: str = UA) -> Any:
        headers = [HOST, ORIGIN, (b"cookie", cookie), (b"user-agent", user_agent.encode())]
        communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        communicator.scope["client"] = (peer, 50123)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
        opened.append(communicator)
        return communicator

    yield _open
    for communicator in opened:
        await communicator.disconnect()


async def expect_error(ws, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    frame = await receive_type(ws, "error")
    assert frame["code"] == code, frame
    return frame


async def frames_until_pong(ws) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every frame that reached ``ws`` before a ping's answer."""
    await send(ws, {"type": "ping", "ref": "fence"})
    seen = []
    while True:
        frame = await ws.receive_json_from(timeout=5)
        if frame["type"] == "pong":
            return seen
        seen.append(frame)


async def start_chat(people, open_socket, connect) -> tuple[Any, Any, int]:  # type: ignore[no-untyped-def]
    """Alice browses the portal, asks to chat on her ticket, agent1 joins."""
    ticket_url = f"/portal/tickets/{people['ticket'].pk}/"
    cookie = await browse(people["alice"], ticket_url, "/portal/")
    alice_ws = await open_socket(cookie)
    agent_ws = await connect(people["agent1"])
    await send(
        alice_ws, {"type": "chat.request", "kind": "post_ticket", "ticket_id": people["ticket"].pk}
    )
    session_id = (await receive_type(alice_ws, "chat.state"))["session"]["id"]
    await send(agent_ws, {"type": "chat.join", "session_id": session_id})
    assert (await receive_type(agent_ws, "chat.state"))["session"]["status"] == "active"
    return alice_ws, agent_ws, session_id


async def page_view(ws, session_id: int, path: str, title: str = "", ref: str = "pv") -> None:  # type: ignore[no-untyped-def]
    await send(
        ws,
        {
            "type": "chat.page_view",
            "session_id": session_id,
            "path": path,
            "title": title,
            "ref": ref,
        },
    )


# --- What a request records -------------------------------------------------------------------


async def test_request_records_the_visit_and_staff_read_it(connect, open_socket) -> None:
    people = await make_people()
    _, agent_ws, session_id = await start_chat(people, open_socket, connect)
    ticket_url = f"/portal/tickets/{people['ticket'].pk}/"

    await send(agent_ws, {"type": "chat.visitor", "session_id": session_id, "ref": "v"})
    reply = await receive_type(agent_ws, "chat.visitor")
    assert reply["ref"] == "v"
    info = reply["visitor"]
    assert info["ip_address"] == IP
    assert info["user_agent"] == UA
    assert info["landing_page"] == ticket_url  # the first portal page, not the latest
    assert info["first_visit_page"] == ticket_url
    assert info["first_visit_at"] and info["landing_at"] and info["session_start"]
    assert reply["page_views"] == []


# --- chat.page_view ---------------------------------------------------------------------------


async def test_page_view_reaches_the_agent_live_and_never_the_client(connect, open_socket) -> None:
    people = await make_people()
    alice_ws, agent_ws, session_id = await start_chat(people, open_socket, connect)
    sup = await connect(people["supervisor"])
    await send(sup, {"type": "chat.watch", "session_id": session_id})
    await receive_type(sup, "chat.watching")

    await page_view(alice_ws, session_id, "/portal/tickets/12/", f"Printer {XSS}")
    ack = await receive_type(alice_ws, "chat.page_view_recorded")
    assert ack == {
        "type": "chat.page_view_recorded",
        "session_id": session_id,
        "created": True,
        "ref": "pv",
    }
    for ws in (agent_ws, sup):
        live = await receive_type(ws, "chat.page_viewed")
        assert live["session_id"] == session_id
        assert live["page_view"]["text"] == (
            f"{ALICE.full_name} viewed /portal/tickets/12/ — Printer {XSS}"
        )

    # The same page again (a reload, another tab): recorded once.
    await page_view(alice_ws, session_id, "/portal/tickets/12/", "Printer", ref="again")
    assert not (await receive_type(alice_ws, "chat.page_view_recorded"))["created"]
    assert not any(f["type"] == "chat.page_viewed" for f in await frames_until_pong(agent_ws))

    # Alice's socket saw nothing of it, and her replay carries none of it.
    await send(alice_ws, {"type": "chat.open", "session_id": session_id})
    seen = await frames_until_pong(alice_ws)
    await send(alice_ws, {"type": "chat.history", "session_id": session_id})
    seen += await frames_until_pong(alice_ws)
    await send(alice_ws, {"type": "chat.snapshot"})
    seen += await frames_until_pong(alice_ws)
    assert {"chat.state", "chat.messages", "chat.snapshot"} <= {f["type"] for f in seen}
    text = json.dumps(seen)
    for needle in ("page_view", "/portal/tickets/12/", "onerror", IP, "VisitorTest"):
        assert needle not in text, needle


async def test_page_view_refusals(connect, open_socket) -> None:
    people = await make_people()
    alice_ws, agent_ws, session_id = await start_chat(people, open_socket, connect)
    # Staff never report page views.
    for who in ("agent1", "agent2", "supervisor"):
        ws = agent_ws if who == "agent1" else await connect(people[who])
        await page_view(ws, session_id, "/portal/")
        await expect_error(ws, "forbidden")
    # Another client: the chat does not exist for it.
    bob_ws = await connect(people["bob"])
    await page_view(bob_ws, session_id, "/portal/")
    await expect_error(bob_ws, "not_found")
    # Bad input.
    await page_view(alice_ws, session_id, "//evil.example/")
    await expect_error(alice_ws, "page_path_invalid")
    await page_view(alice_ws, session_id, "/portal/", "t" * 201)
    await expect_error(alice_ws, "page_title_too_long")
    await send(alice_ws, {"type": "chat.page_view", "session_id": session_id, "url": "/x"})
    await expect_error(alice_ws, "invalid")
    assert await sync_to_async(PageView.objects.count)() == 0
    # A chat that is over.
    await sync_to_async(
        lambda: ChatSession.objects.filter(pk=session_id).update(status=SessionStatus.ENDED)
    )()
    await page_view(alice_ws, session_id, "/portal/")
    await expect_error(alice_ws, "chat_not_live")
    assert await sync_to_async(PageView.objects.count)() == 0


# --- chat.visitor -----------------------------------------------------------------------------


async def test_visitor_info_refusals(connect, open_socket) -> None:
    people = await make_people()
    alice_ws, _, session_id = await start_chat(people, open_socket, connect)
    # The chat's own client: the frame is for staff.
    await send(alice_ws, {"type": "chat.visitor", "session_id": session_id})
    await expect_error(alice_ws, "forbidden")
    # An agent who is not in the chat.
    other = await connect(people["agent2"])
    await send(other, {"type": "chat.visitor", "session_id": session_id})
    await expect_error(other, "not_found")
    # A supervisor may read any chat.
    sup = await connect(people["supervisor"])
    await send(sup, {"type": "chat.visitor", "session_id": session_id})
    assert (await receive_type(sup, "chat.visitor"))["visitor"]["ip_address"] == IP
    # Unknown chat.
    await send(sup, {"type": "chat.visitor", "session_id": 999999})
    await expect_error(sup, "not_found")


async def test_anonymous_socket_is_closed_before_any_frame(connect) -> None:
    ws = await connect(None)
    await assert_closed(ws, 4401)


async def test_a_page_view_event_never_reaches_a_client_socket(connect, open_socket) -> None:
    """The relay hook drops it even if a bug sent it to a client's group."""
    people = await make_people()
    alice_ws, _, session_id = await start_chat(people, open_socket, connect)
    await frames_until_pong(alice_ws)
    frame = {"session_id": session_id, "page_view": {"text": "leak"}}
    await get_channel_layer().group_send(
        user_group(people["alice"].pk), event("chat.page_viewed", frame)
    )
    assert not any(f["type"] == "chat.page_viewed" for f in await frames_until_pong(alice_ws))


async def test_an_agent_who_left_hears_no_more_page_views(connect, open_socket) -> None:
    people = await make_people()
    alice_ws, agent_ws, session_id = await start_chat(people, open_socket, connect)
    # agent2 joins by invitation, then agent1 leaves; only agent2 hears.
    await send(
        agent_ws,
        {
            "type": "chat.invite",
            "session_id": session_id,
            "agent_id": people["agent2"].pk,
        },
    )
    agent2_ws = await connect(people["agent2"])
    await frames_until_pong(agent_ws)
    await send(agent2_ws, {"type": "chat.join", "session_id": session_id})
    await receive_type(agent2_ws, "chat.state")
    await send(agent_ws, {"type": "chat.leave", "session_id": session_id})
    await receive_type(agent_ws, "chat.left")
    await frames_until_pong(agent_ws)
    await page_view(alice_ws, session_id, f"/portal/x/{uuid.uuid4().hex}/")
    await receive_type(alice_ws, "chat.page_view_recorded")
    assert (await receive_type(agent2_ws, "chat.page_viewed"))["session_id"] == session_id
    assert not any(f["type"] == "chat.page_viewed" for f in await frames_until_pong(agent_ws))


async def test_accepting_a_push_over_the_socket_records_the_visit(connect, open_socket) -> None:
    people = await make_people()
    cookie = await browse(people["alice"], "/portal/")
    alice_ws = await open_socket(cookie)
    agent_ws = await connect(people["agent1"])
    await send(agent_ws, {"type": "chat.push", "ticket_id": people["ticket"].pk})
    await receive_type(agent_ws, "chat.state")
    session_id = (await receive_type(alice_ws, "chat.invited"))["session"]["id"]
    # Before the client answers there is nothing to show.
    await send(agent_ws, {"type": "chat.visitor", "session_id": session_id})
    assert (await receive_type(agent_ws, "chat.visitor"))["visitor"]["recorded"] is False
    await send(alice_ws, {"type": "chat.accept", "session_id": session_id})
    await receive_type(alice_ws, "chat.state")
    await send(agent_ws, {"type": "chat.visitor", "session_id": session_id})
    info = (await receive_type(agent_ws, "chat.visitor"))["visitor"]
    assert (info["ip_address"], info["user_agent"]) == (IP, UA)
    assert info["landing_page"] == info["first_visit_page"] == "/portal/"
