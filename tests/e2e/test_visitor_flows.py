"""Visitor info and page views in the browser: alice starts a chat, agent1
joins and opens Visitor (IP, user agent, first visit); alice goes to another
portal page and agent1 sees the page-view line live, as text even when the
page title carries markup; alice's own window never shows it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from presence.models import PresenceStatus
from tests.e2e.helpers import make_ticket, screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as
from tests.personas import AGENT1, ALICE

# Join opens the chat in the agent workspace.
WORKSPACE = re.compile(r"/console/chats/\?chat=\d+$")

pytestmark = pytest.mark.usefixtures("e2e_db")

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, "Printer prints blank pages")
    other = make_ticket(alice, f"Scanner {XSS}")
    return {"alice": alice, "agent": agent, "ticket": ticket, "other": other}


def test_agent_sees_visitor_info_and_page_views(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    dialogs: list[str] = []
    for page in (agent, client):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    user_agent = client.evaluate("navigator.userAgent")

    ticket_path = f"/portal/tickets/{people['ticket'].pk}/"
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.wait_for_url(f"**{ticket_path}")
    client.get_by_role("button", name="Join chat").click()
    client_window = chat_window(client)
    expect(client_window).to_contain_text("Waiting for an agent")

    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    agent.wait_for_url(WORKSPACE)
    # The window docked on the ticket page: its Visitor panel floats over the log.
    agent.goto(f"/console/tickets/{people['ticket'].pk}/")
    agent_window = chat_window(agent)
    expect(agent_window).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    # Where alice asked from: a staff-only line.
    expect(agent_window.locator(".chat-log")).to_contain_text(
        f"{ALICE.full_name} viewed {ticket_path} — "
    )

    agent_window.locator(".chat-visitor summary").click()
    info = agent_window.locator(".chat-visitor-info")
    expect(info).to_contain_text("IP address127.0.0.1")
    expect(info).to_contain_text(user_agent)
    # Logging in landed her on the portal home: her first visit and landing page.
    expect(info.locator("dt", has_text="First visit").locator("+ dd")).to_contain_text("/portal/")
    expect(info.locator("dt", has_text="Landing page").locator("+ dd")).to_contain_text("/portal/")
    expect(info.locator("dt", has_text="Session start").locator("+ dd")).not_to_contain_text(
        "unknown"
    )
    screenshot(agent, "visitor-1-agent-visitor-info")
    # A click elsewhere closes the panel, as menus do.
    agent_window.locator(".chat-title").click()
    expect(info).to_be_hidden()

    # Alice moves on to another ticket: agent1 sees it live; the title's markup is text.
    other_path = f"/portal/tickets/{people['other'].pk}/"
    client.goto(other_path)
    client_window = chat_window(client)
    expect(client_window).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    line = agent_window.locator(".chat-line.page-view", has_text=other_path)
    expect(line).to_contain_text(f"{ALICE.full_name} viewed {other_path} — ")
    expect(line).to_contain_text(f"Scanner {XSS}")
    expect(agent_window.locator(".chat-log img")).to_have_count(0)
    screenshot(agent, "visitor-2-agent-page-view")
    agent_window.locator(".chat-visitor summary").click()
    expect(info.locator("dt", has_text="Pages viewed").locator("+ dd")).to_have_text("2")

    # Alice's window shows no page views and no visitor info.
    expect(client_window.locator(".chat-log")).not_to_contain_text("viewed")
    expect(client_window.locator(".chat-visitor")).to_have_count(0)
    expect(client.locator(".chat-line.page-view")).to_have_count(0)
    screenshot(client, "visitor-3-client-window")

    # The chat goes on around the lines, in order.
    client_window.get_by_label("Message").fill("Now the scanner is broken too")
    client_window.get_by_label("Message").press("Enter")
    expect(agent_window.locator(".chat-line").last).to_contain_text("Now the scanner is broken too")
    assert dialogs == []
