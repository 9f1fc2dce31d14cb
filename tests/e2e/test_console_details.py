"""Details an agent sees in the console: the chosen presence state stands out
on the dark bar, an idle Chats panel shows one calm line, "Alice Turner is
online" sits on the line of Push chat, and the End dialog of a chat without a
ticket is laid out like the other dialogs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from presence.models import PresenceStatus
from tests.e2e.helpers import make_ticket, screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as
from tests.personas import AGENT1, ALICE

pytestmark = pytest.mark.usefixtures("e2e_db")

# WCAG's contrast ratio of two CSS colours (alpha blended over the bar).
CONTRAST = """([front, back]) => {
  const rgb = (css) => css.match(/[\\d.]+/g).map(Number);
  const blend = (top, bottom) => {
    const alpha = top.length > 3 ? top[3] : 1;
    return [0, 1, 2].map((i) => top[i] * alpha + bottom[i] * (1 - alpha));
  };
  const luminance = (c) => {
    const [r, g, b] = c.map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const bar = rgb(getComputedStyle(document.querySelector(".topbar")).backgroundColor);
  const a = luminance(blend(rgb(front), bar));
  const b = luminance(blend(rgb(back), bar));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def style(page: Page, selector: str, prop: str) -> str:
    return page.locator(selector).evaluate(f"(node) => getComputedStyle(node).{prop}")


def contrast(page: Page, front: str, back: str) -> float:
    return float(page.evaluate(CONTRAST, [front, back]))


def test_the_chosen_status_stands_out_on_the_dark_bar(new_context) -> None:
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    chosen = '.presence-option[aria-pressed="true"]'
    other = '.presence-option[data-status="away"]'
    bar = style(agent, ".topbar", "backgroundColor")
    # The chosen option against the bar and against the options not chosen.
    assert contrast(agent, style(agent, chosen, "backgroundColor"), bar) >= 3
    assert (
        contrast(
            agent, style(agent, chosen, "backgroundColor"), style(agent, other, "backgroundColor")
        )
        >= 3
    )
    # Its words stay readable on it, hovered too.
    assert (
        contrast(agent, style(agent, chosen, "color"), style(agent, chosen, "backgroundColor"))
        >= 4.5
    )
    agent.locator(chosen).hover()
    assert (
        contrast(agent, style(agent, chosen, "color"), style(agent, chosen, "backgroundColor"))
        >= 4.5
    )
    screenshot(agent, "details-1-presence-chosen")


def test_an_idle_chats_panel_shows_one_calm_line(new_context) -> None:
    alice = ALICE.create()
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    make_ticket(alice, "Printer prints blank pages")
    agent = open_as(new_context, "agent1@example.com")
    manager = agent.locator("#session-manager")
    expect(manager).to_contain_text("Nobody is waiting.")
    expect(manager.get_by_role("heading")).to_have_count(0)
    screenshot(agent, "details-2-chats-idle")

    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    # Something to show: the queue with the request, and no empty lists.
    expect(manager.locator(".sm-queue")).to_contain_text("Printer prints blank pages")
    expect(manager.get_by_role("heading")).to_have_count(1)
    manager.locator(".sm-queue").get_by_role("button", name="Join").click()
    agent.wait_for_url(re.compile(r"/console/chats/\?chat=\d+$"))
    expect(chat_window(agent)).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    agent.goto("/console/")
    expect(manager.get_by_role("heading")).to_have_text(["Queue0", "My chats1"])


def test_online_state_sits_beside_push_chat(new_context) -> None:
    alice = ALICE.create()
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, "Printer prints blank pages")
    client = open_as(new_context, "alice@acme.example")
    expect(client.get_by_role("heading", name="My tickets")).to_be_visible()
    agent = open_as(new_context, "agent1@example.com")
    agent.goto(f"/console/tickets/{ticket.pk}/")
    online = agent.get_by_text(f"{ALICE.full_name} is online")
    push = agent.get_by_role("button", name="Push chat")
    expect(push).to_be_enabled()
    # The words themselves (a stretched box would hide text at its top).
    text_middle = online.evaluate(
        "(node) => { const range = document.createRange(); range.selectNodeContents(node);"
        " const box = range.getBoundingClientRect(); return box.top + box.height / 2; }"
    )
    push_box = push.bounding_box()
    assert push_box is not None
    assert abs(text_middle - (push_box["y"] + push_box["height"] / 2)) <= 2


def test_the_end_dialog_without_a_ticket_is_laid_out_like_the_others(new_context) -> None:
    ALICE.create()
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("button", name="Start a chat").click()
    client.get_by_label("Subject").fill("Cannot reach the VPN")
    client.get_by_role("button", name="Start chat").click()
    agent.locator("#session-manager .sm-queue").get_by_role("button", name="Join").click()
    chat_window(agent).get_by_role("button", name="End chat").click()
    dialog = agent.locator("dialog.chat-end-dialog")
    expect(dialog.get_by_label("Subject")).to_have_value("Cannot reach the VPN")
    # As every other dialog: labelled fields, then one row of buttons, Cancel first.
    expect(dialog.locator("fieldset")).to_have_count(0)
    actions = dialog.locator(".dialog-actions").get_by_role("button")
    expect(actions).to_have_text(["Cancel", "Close without ticket", "Create ticket"])
    label_weight = dialog.locator("label[for=end-subject]").evaluate(
        "(label) => Number(getComputedStyle(label).fontWeight)"
    )
    assert label_weight >= 500
    screenshot(agent, "details-3-end-dialog-pre-ticket")
