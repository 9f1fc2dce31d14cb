"""Chat flows a person clicks through: post-ticket chat ending with the
transcript on the ticket, pre-ticket chat ending with Create ticket, push
chat accepted by the client, a message typed offline, and a last message whose
event was lost. Two browser contexts: the client and the agent."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from chat import services
from chat.models import ChatSession, SessionStatus
from presence.models import PresenceStatus
from tests.e2e.helpers import login, make_ticket, screenshot
from tests.personas import AGENT1, ALICE
from tickets.models import Ticket, TicketAttachment

# Join opens the chat in the agent workspace.
WORKSPACE = re.compile(r"/console/chats/\?chat=\d+$")

pytestmark = pytest.mark.usefixtures("e2e_db")


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, "Printer prints blank pages")
    return {"alice": alice, "agent": agent, "ticket": ticket}


def wait_for(probe: Callable[[], object], timeout: float = 10) -> object:
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the server")
        time.sleep(0.1)
    return result


def open_as(new_context: Callable[..., BrowserContext], email: str) -> Page:
    page = new_context().new_page()
    page.set_default_timeout(10_000)
    login(page, email)
    return page


def go_available(agent: Page) -> None:
    button = agent.get_by_role("button", name="Available")
    expect(button).to_be_enabled()
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")


def chat_window(page: Page) -> Locator:  # noqa: F821
    return page.locator(".chat-window").last


def send(page: Page, text: str) -> None:
    window = chat_window(page)
    window.get_by_label("Message").fill(text)
    window.get_by_label("Message").press("Enter")


def test_post_ticket_chat_ends_with_transcript_on_ticket(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    client_window = chat_window(client)
    expect(client_window).to_contain_text("Waiting for an agent")
    expect(client_window.get_by_label("Message")).to_be_disabled()

    toast = agent.locator(".toast-request")
    expect(toast).to_contain_text(ALICE.full_name)
    expect(agent.locator("#session-manager .sm-queue")).to_contain_text(
        "Printer prints blank pages"
    )
    screenshot(agent, "chat-1-request-toast")
    toast.get_by_role("button", name="Join").click()
    # Post-ticket: the agent lands on the ticket with the chat window docked.
    agent.wait_for_url(WORKSPACE)
    agent_window = chat_window(agent)
    expect(agent_window).to_contain_text(f"{AGENT1.full_name} joined the chat.")

    expect(client_window.get_by_label("Message")).to_be_enabled()
    send(client, "Hello, it prints <b>blank</b> pages")
    expect(agent_window).to_contain_text("Hello, it prints <b>blank</b> pages")
    send(agent, "Have you tried new toner?")
    expect(client_window).to_contain_text("Have you tried new toner?")
    send(agent, "Steps: https://kb.example/toner?model=4")
    link = client_window.get_by_role("link", name="https://kb.example/toner?model=4")
    expect(link).to_have_attribute("href", "https://kb.example/toner?model=4")
    expect(link).to_have_attribute("target", "_blank")
    screenshot(client, "chat-2-client-chatting")

    agent_window.get_by_role("button", name="End chat").click()
    agent.locator("dialog.chat-end-dialog").get_by_role("button", name="End chat").click()
    expect(client_window).to_contain_text("The chat has ended.")
    expect(client_window.get_by_label("Message")).to_be_disabled()
    screenshot(client, "chat-3-client-ended")

    # Transcript attached to the ticket by the task that runs after the end
    # commits (inline under the test settings, so right after the broadcast).
    attachment = wait_for(lambda: TicketAttachment.objects.filter(ticket=people["ticket"]).first())
    assert attachment.original_name.endswith("transcript.txt")
    agent.goto(f"/console/tickets/{people['ticket'].pk}/")
    expect(agent.get_by_role("link", name=attachment.original_name).first).to_be_visible()
    agent.get_by_role("tab", name="Chat history").click()
    expect(agent.locator(".chat-history")).to_contain_text("Have you tried new toner?")

    # Both leave.
    chat_window(agent).get_by_role("button", name="Leave").first.click()
    expect(agent.locator(".chat-window")).to_have_count(0)
    client_window.locator(".chat-log").get_by_role("button", name="Leave").click()
    expect(client.locator(".chat-window")).to_have_count(0)


def test_pre_ticket_chat_becomes_a_ticket(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("button", name="Start a chat").click()
    client.get_by_label("Subject").fill("Cannot reach the VPN")
    client.get_by_role("button", name="Start chat").click()
    expect(chat_window(client)).to_contain_text("Waiting for an agent")

    queue = agent.locator("#session-manager .sm-queue")
    expect(queue).to_contain_text("Cannot reach the VPN")
    queue.get_by_role("button", name="Join").click()
    agent_window = chat_window(agent)
    expect(agent_window).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    send(client, "The VPN client says timeout")
    expect(agent_window).to_contain_text("The VPN client says timeout")

    agent_window.get_by_role("button", name="End chat").click()
    dialog = agent.locator("dialog.chat-end-dialog")
    expect(dialog.get_by_label("Subject")).to_have_value("Cannot reach the VPN")
    screenshot(agent, "chat-6-end-pre-ticket-dialog")
    # Closing without a ticket needs a reason.
    dialog.get_by_role("button", name="Close without ticket").click()
    expect(dialog).to_contain_text("Say why the chat is closed without a ticket.")
    dialog.get_by_label("Subject").fill("VPN timeout for Alice")
    dialog.get_by_role("button", name="Create ticket").click()
    expect(chat_window(client)).to_contain_text("The chat has ended.")

    ticket = wait_for(lambda: Ticket.objects.filter(subject="VPN timeout for Alice").first())
    assert ticket.contact == people["alice"].contact
    wait_for(lambda: TicketAttachment.objects.filter(ticket=ticket).exists())
    assert TicketAttachment.objects.filter(ticket=ticket).count() == 1
    assert ChatSession.objects.get(ticket=ticket).status == SessionStatus.ENDED


def test_push_chat_accepted_by_the_client(new_context, people) -> None:
    client = open_as(new_context, "alice@acme.example")
    expect(client.get_by_role("heading", name="My tickets")).to_be_visible()
    agent = open_as(new_context, "agent1@example.com")
    agent.goto(f"/console/tickets/{people['ticket'].pk}/")
    push = agent.get_by_role("button", name="Push chat")
    expect(push).to_be_enabled()
    push.click()
    expect(chat_window(agent)).to_contain_text("Waiting for the client to accept")

    invitation = client.locator("dialog.chat-invitation")
    expect(invitation).to_contain_text(f"{AGENT1.full_name} would like to chat")
    screenshot(client, "chat-4-push-invitation")
    invitation.get_by_role("button", name="Accept").click()
    client_window = chat_window(client)
    expect(client_window).to_contain_text(f"{ALICE.full_name} joined the chat.")
    send(agent, "Hi Alice, about your printer")
    expect(client_window).to_contain_text("Hi Alice, about your printer")
    send(client, "Yes?")
    expect(chat_window(agent)).to_contain_text("Yes?")


def test_message_typed_while_offline_arrives_once_after_reconnect(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    client_window = chat_window(client)
    expect(client_window.get_by_label("Message")).to_be_enabled()

    # The network goes away and the socket with it.
    client.context.set_offline(True)
    client.evaluate("window.__switchboardSocket._ws && window.__switchboardSocket._ws.close()")
    expect(client_window.locator(".chat-connection")).to_have_text("Reconnecting…")
    send(client, "Typed while offline")
    expect(client_window.locator(".chat-line.pending")).to_contain_text("Sending…")
    screenshot(client, "chat-5-offline")

    client.context.set_offline(False)
    expect(client_window.locator(".chat-connection")).to_be_hidden(timeout=20_000)
    agent_window = chat_window(agent)
    expect(agent_window.locator(".chat-line", has_text="Typed while offline")).to_have_count(1)
    expect(client_window.locator(".chat-line.pending")).to_have_count(0)
    expect(client_window.locator(".chat-line", has_text="Typed while offline")).to_have_count(1)
    session = ChatSession.objects.get(ticket=people["ticket"])
    assert session.messages.filter(body="Typed while offline").count() == 1


def test_a_last_message_whose_event_was_lost_shows_after_the_next_heartbeat(
    new_context, people
) -> None:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    agent.wait_for_url(WORKSPACE)
    expect(chat_window(client).get_by_label("Message")).to_be_enabled()
    agent_window = chat_window(agent)
    expect(agent_window).to_contain_text(f"{AGENT1.full_name} joined the chat.")

    # Alice's last word is stored, but its event is lost on the way (as to a
    # Redis that had just restarted) and nothing comes after it.
    session = ChatSession.objects.get(ticket=people["ticket"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("chat.broadcasts._deliver", lambda frames: None)
        services.message_send(
            session_id=session.pk, author=people["alice"], client_id=uuid.uuid4(), body="Hello?"
        )
    agent.wait_for_timeout(500)
    expect(agent_window).not_to_contain_text("Hello?")

    # The heartbeat's ping, sent now rather than after heartbeat_seconds: its
    # pong names the chat's last seq, past the one the window shows.
    agent.evaluate("window.__switchboardSocket.send({type: 'ping'})")
    expect(agent_window.locator(".chat-line", has_text="Hello?")).to_have_count(1)
