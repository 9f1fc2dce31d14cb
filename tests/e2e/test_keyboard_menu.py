"""The agent's "More actions" menu of a chat window, by keyboard: the WAI-ARIA menu
button pattern (aria-haspopup, aria-expanded, role=menu/menuitem, arrow keys, Home/End,
Escape closes it and gives the focus back to the button), never covering the focused
control; a dialog opened from it keeps the focus inside and gives it back on close."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from chat.models import ChatTemplate, TemplateKind
from presence.models import PresenceStatus
from tests.e2e.chat_steps import focused, go_available, open_as, visible_chat
from tests.e2e.helpers import make_ticket
from tests.personas import AGENT1, ALICE

pytestmark = pytest.mark.usefixtures("e2e_db")

SUBJECT = "Printer prints blank pages"
# The menu of a live post-ticket chat, in its order (static/js/chat/agent_tools.js).
ITEMS = ["Invite agent…", "Insert template…", "Copy chat log", "Add time entry…"]


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    ChatTemplate.objects.create(kind=TemplateKind.GREETING, title="Hello", body="Hi there!")
    return {"alice": alice, "agent": agent, "ticket": make_ticket(alice, SUBJECT)}


def live_chat(new_context) -> tuple[Page, Page]:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name=SUBJECT).click()
    client.get_by_role("button", name="Join chat").click()
    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    expect(visible_chat(agent)).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    return agent, client


def focused_name(page: Page) -> str:
    return focused(page)["name"]


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_the_menu_follows_the_menu_button_pattern(new_context, people) -> None:
    agent, _client = live_chat(new_context)
    window = visible_chat(agent)
    button = window.get_by_role("button", name="More actions")
    menu = window.get_by_role("menu", name="More actions")
    expect(button).to_have_attribute("aria-haspopup", "menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()

    button.focus()
    agent.keyboard.press("Enter")
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("menuitem")).to_have_text(ITEMS)
    assert focused_name(agent) == ITEMS[0]
    # The open menu covers nothing that has the focus: not its own button.
    assert not boxes_overlap(menu.bounding_box(), button.bounding_box())

    agent.keyboard.press("ArrowDown")
    assert focused_name(agent) == ITEMS[1]
    agent.keyboard.press("End")
    assert focused_name(agent) == ITEMS[-1]
    agent.keyboard.press("ArrowDown")  # wraps to the first
    assert focused_name(agent) == ITEMS[0]
    agent.keyboard.press("ArrowUp")  # and back to the last
    assert focused_name(agent) == ITEMS[-1]
    agent.keyboard.press("Home")
    assert focused_name(agent) == ITEMS[0]
    agent.keyboard.press("c")  # the first item starting with C
    assert focused_name(agent) == "Copy chat log"

    agent.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()

    # ArrowUp on the button opens it on the last item; Space on the first.
    agent.keyboard.press("ArrowUp")
    expect(menu).to_be_visible()
    assert focused_name(agent) == ITEMS[-1]
    agent.keyboard.press("Escape")
    expect(button).to_be_focused()
    agent.keyboard.press("Space")
    assert focused_name(agent) == ITEMS[0]
    # Tab leaves the menu closed behind it.
    agent.keyboard.press("Tab")
    expect(menu).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")

    # An item opens its dialog; the focus stays in it and comes back on close.
    button.focus()
    agent.keyboard.press("ArrowDown")
    agent.keyboard.press("ArrowDown")
    assert focused_name(agent) == "Insert template…"
    agent.keyboard.press("Enter")
    dialog = agent.get_by_role("dialog", name="Templates")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Hello")).to_be_visible()
    for _ in range(6):
        agent.keyboard.press("Tab")
        assert agent.evaluate("document.activeElement.closest('dialog[open]') !== null")
    for _ in range(6):
        agent.keyboard.press("Shift+Tab")
        assert agent.evaluate("document.activeElement.closest('dialog[open]') !== null")
    agent.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
