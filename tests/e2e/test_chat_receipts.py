"""Formatting, typing and read receipts as people see them: the client (Alice)
and the agent (agent1) in two browser contexts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from presence.models import PresenceStatus
from tests.e2e.helpers import make_ticket, screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as, send
from tests.personas import AGENT1, ALICE

# Join opens the chat in the agent workspace.
WORKSPACE = re.compile(r"/console/chats/\?chat=\d+$")

pytestmark = pytest.mark.usefixtures("e2e_db")

LINK_REL = "noopener noreferrer nofollow"


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    return {
        "alice": alice,
        "agent": agent,
        "ticket": make_ticket(alice, "Printer prints blank pages"),
    }


def start_chat(new_context, people: dict) -> tuple[Page, Page]:  # type: ignore[no-untyped-def]
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    # The agent lands in the workspace; wait for that page's window.
    agent.wait_for_url(WORKSPACE)
    expect(chat_window(agent)).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    expect(chat_window(client).get_by_label("Message")).to_be_enabled()
    return client, agent


def test_formatted_message_renders_on_both_sides(new_context, people) -> None:
    client, agent = start_chat(new_context, people)
    send(
        client,
        "It prints **blank pages** since *Monday*, see [the log](https://example.com/log)\n"
        "- tray 1\n- tray 2\n\n`lpstat -t` says <script>alert(1)</script>",
    )
    for page in (client, agent):
        line = chat_window(page).locator(".chat-line", has_text="blank pages")
        body = line.locator(".chat-body")
        expect(body.locator("strong")).to_have_text("blank pages")
        expect(body.locator("em")).to_have_text("Monday")
        expect(body.locator("li")).to_have_text(["tray 1", "tray 2"])
        expect(body.locator("code")).to_have_text("lpstat -t")
        link = body.get_by_role("link", name="the log")
        expect(link).to_have_attribute("href", "https://example.com/log")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", LINK_REL)
        # Raw HTML is shown as text, never run.
        expect(body).to_contain_text("<script>alert(1)</script>")
        expect(body.locator("script")).to_have_count(0)
    send(agent, "Thanks, **checking** now")
    expect(chat_window(client).locator(".chat-body strong", has_text="checking")).to_be_visible()
    # Each side read the other's message; no stale "typing" once it arrived.
    for page in (client, agent):
        expect(chat_window(page).locator(".chat-line.mine .chat-tick")).to_have_text("✓✓")
        expect(chat_window(page).locator(".chat-typing")).to_have_text("")
    screenshot(agent, "receipts-1-formatted-agent")
    screenshot(client, "receipts-2-formatted-client")

    # The ticket's Chat history tab shows the same formatting.
    agent.goto(f"/console/tickets/{people['ticket'].pk}/")
    agent.get_by_role("tab", name="Chat history").click()
    history = agent.locator(".chat-history")
    expect(history.locator(".transcript-body strong", has_text="blank pages")).to_be_visible()
    link = history.get_by_role("link", name="the log")
    expect(link).to_have_attribute("href", "https://example.com/log")
    expect(link).to_have_attribute("rel", LINK_REL)
    expect(history).to_contain_text("<script>alert(1)</script>")
    expect(history.locator("script")).to_have_count(0)
    screenshot(agent, "receipts-8-history")


def test_typing_shows_on_the_other_side_and_expires(new_context, people) -> None:
    client, agent = start_chat(new_context, people)
    client_typing = chat_window(client).locator(".chat-typing")
    agent_typing = chat_window(agent).locator(".chat-typing")

    chat_window(client).get_by_label("Message").press_sequentially("Is the", delay=50)
    expect(agent_typing).to_have_text(f"{ALICE.full_name} is typing…")
    expect(client_typing).to_have_text("")  # not told about oneself
    screenshot(agent, "receipts-3-typing-agent")
    # Stopped typing: it goes away by itself after a few seconds.
    expect(agent_typing).to_have_text("", timeout=8_000)

    # Typing then sending: the message replaces the indicator at once.
    chat_window(client).get_by_label("Message").press_sequentially(" toner low?", delay=30)
    expect(agent_typing).to_have_text(f"{ALICE.full_name} is typing…")
    chat_window(client).get_by_label("Message").press("Enter")
    expect(chat_window(agent)).to_contain_text("Is the toner low?")
    expect(agent_typing).to_have_text("", timeout=500)

    # And the other way.
    chat_window(agent).get_by_label("Message").press_sequentially("Let me", delay=50)
    expect(client_typing).to_have_text(f"{AGENT1.full_name} is typing…")
    screenshot(client, "receipts-4-typing-client")


def test_double_tick_after_the_other_side_reads(new_context, people) -> None:
    client, agent = start_chat(new_context, people)
    agent_window = chat_window(agent)

    # Alice has her portal closed: agent1's message is delivered, not read.
    portal_context = client.context
    client.close()
    send(agent, "Could you check the toner?")
    tick = agent_window.locator(".chat-line.mine", has_text="check the toner").locator(".chat-tick")
    expect(tick).to_have_text("✓")
    expect(tick).to_have_attribute("title", "Delivered")
    agent.wait_for_timeout(1_500)  # longer than the browser's read debounce
    expect(tick).to_have_text("✓")
    screenshot(agent, "receipts-5-delivered")

    # Alice comes back: her chat window reopens and shows the message...
    client = portal_context.new_page()
    client.goto("/portal/")
    expect(chat_window(client)).to_contain_text("Could you check the toner?")
    # ...so it is read: a double tick for agent1, the time on hover.
    expect(tick).to_have_text("✓✓")
    expect(tick).to_have_class(re.compile(r"\bread\b"))
    expect(tick).to_have_attribute("title", re.compile(r"^Read \d"))
    tick.hover()
    screenshot(agent, "receipts-6-read")

    # The other way: Alice's reply gets its double tick once agent1's window shows it.
    send(client, "Toner is fine")
    client_tick = (
        chat_window(client)
        .locator(".chat-line.mine", has_text="Toner is fine")
        .locator(".chat-tick")
    )
    expect(client_tick).to_have_text("✓✓")
    expect(client_tick).to_have_attribute("title", re.compile(r"^Read \d"))
    # The read time survives a reload (stored on the message).
    agent.reload()
    expect(
        chat_window(agent)
        .locator(".chat-line.mine", has_text="check the toner")
        .locator(".chat-tick")
    ).to_have_text("✓✓")
    screenshot(client, "receipts-7-client-read")
