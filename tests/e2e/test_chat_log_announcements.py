"""What a screen reader hears from a chat: the log (role=log, polite) gets one new
node per new message, with the sender's name in it, and the earlier rows stay the
same DOM nodes (a rebuilt log is read out again from the top, or not at all); the
waiting time that ticks every second is in no live region."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from presence.models import PresenceStatus
from tests.e2e.chat_steps import go_available, open_as, visible_chat
from tests.e2e.helpers import make_ticket
from tests.personas import AGENT1, ALICE

pytestmark = pytest.mark.usefixtures("e2e_db")

SUBJECT = "Printer prints blank pages"


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    return {"alice": alice, "agent": agent, "ticket": make_ticket(alice, SUBJECT)}


def send(page: Page, text: str) -> None:
    box = visible_chat(page).get_by_label("Message")
    box.fill(text)
    box.press("Enter")


# The page's (last) chat window, in the page's JavaScript.
WINDOW = "[...document.querySelectorAll('.chat-window')].pop()"


def remember_rows(page: Page) -> int:
    """Keep the log's current row nodes in the page; returns how many there are."""
    return page.evaluate(
        f"""() => {{
          const log = {WINDOW}.querySelector('[role=log]');
          window.__rows = [...log.children];
          return window.__rows.length;
        }}"""
    )


def rows_since(page: Page) -> dict:
    """The remembered rows: still in the log, in order, as the same nodes; and what came."""
    return page.evaluate(
        f"""() => {{
          const log = {WINDOW}.querySelector('[role=log]');
          const now = [...log.children];
          const kept = window.__rows.every((node, i) => now[i] === node);
          const added = now.slice(window.__rows.length).map((node) => node.textContent);
          return {{ kept, added, count: now.length }};
        }}"""
    )


def live_texts(page: Page) -> list[str]:
    """The text of every live region of the chat window but its log."""
    return page.evaluate(
        f"""() => {{
          const live = '[aria-live]:not([role=log]), [role=status], [role=alert]';
          return [...{WINDOW}.querySelectorAll(live)].map((node) => node.textContent);
        }}"""
    )


def test_a_new_message_adds_one_row_and_keeps_the_others(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name=SUBJECT).click()
    client.get_by_role("button", name="Join chat").click()

    # Waiting: the timer ticks, but no live region says it again every second.
    client_window = visible_chat(client)
    expect(client_window).to_contain_text("Waiting for an agent")
    before = live_texts(client)
    timer = client_window.locator(".chat-timer")
    shown = timer.text_content()
    time.sleep(2.2)
    assert timer.text_content() != shown, "the waiting time should tick"
    assert live_texts(client) == before

    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    expect(visible_chat(agent)).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    expect(client_window.get_by_label("Message")).to_be_enabled()
    log = visible_chat(agent).get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")

    send(client, "Hello, it prints blank pages")
    expect(log).to_contain_text("Hello, it prints blank pages")
    send(agent, "Have you tried new toner?")
    expect(client_window.get_by_role("log")).to_contain_text("Have you tried new toner?")
    # The client's reply gets read: the agent's tick changes in place.
    expect(log.locator(".chat-tick.read")).to_have_count(1)

    count = remember_rows(agent)
    send(client, "Yes, twice")
    expect(log).to_contain_text("Yes, twice")
    after = rows_since(agent)
    assert after["kept"], "the earlier rows were rebuilt"
    assert after["count"] == count + 1
    assert ALICE.full_name in after["added"][0] and "Yes, twice" in after["added"][0]

    # The other side the same: the agent's message is one new row with its sender.
    count = remember_rows(client)
    send(agent, "Then let us order a new drum")
    expect(client_window.get_by_role("log")).to_contain_text("Then let us order a new drum")
    after = rows_since(client)
    assert after["kept"] and after["count"] == count + 1
    assert AGENT1.full_name in after["added"][0]
