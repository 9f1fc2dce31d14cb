"""A whole chat by keyboard alone, on both sides: Tab, Shift+Tab, Enter, Space, Escape
and the documented shortcuts only (static/js/chat/shortcuts.js, the README's list).
Where the focus is after each step: in the Message box after Join (the agent) and
when an agent joins (the client), still there after sending, on Leave after End, back
where chats start after Leave; never on <body>, not even when a dialog's opener is gone.
And the focus ring: at least 3:1 against what it is drawn on, the dark top bar, chat
headers and the light menu in them included."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from presence.models import PresenceStatus
from tests.e2e.chat_steps import focused, open_as, press_tab_until, visible_chat
from tests.e2e.helpers import make_ticket, screenshot
from tests.personas import AGENT1, ALICE
from tickets.models import Ticket

pytestmark = pytest.mark.usefixtures("e2e_db")

SUBJECT = "Printer prints blank pages"


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    return {"alice": alice, "agent": agent, "ticket": make_ticket(alice, SUBJECT)}


def is_message_box(now: dict[str, str]) -> bool:
    return now["tag"] == "textarea" and now["name"] == "Message"


def type_and_send(page: Page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def available_agent(new_context) -> Page:
    """agent1 on the workspace, gone Available by Tab and Space."""
    agent = open_as(new_context, "agent1@example.com")
    agent.goto("/console/chats/")
    press_tab_until(agent, lambda now: now["name"] == "Available")
    agent.keyboard.press("Space")
    return agent


def push_chat(agent: Page, client: Page, ticket: Ticket) -> Locator:
    """The agent pushes a chat on the ticket; the client's invitation dialog."""
    agent.goto(f"/console/tickets/{ticket.pk}/")
    agent.get_by_role("button", name="Push chat").click()
    invitation = client.get_by_role("dialog", name="Chat request")
    expect(invitation).to_be_visible()
    return invitation


def test_a_whole_chat_by_keyboard_alone(new_context, people) -> None:
    ticket = people["ticket"]
    agent = open_as(new_context, "agent1@example.com")
    agent.goto("/console/chats/")
    client = open_as(new_context, "alice@acme.example")
    client.goto(f"/portal/tickets/{ticket.pk}/")

    # The agent goes Available: Tab to it, Space.
    press_tab_until(agent, lambda now: now["name"] == "Available")
    agent.keyboard.press("Space")
    expect(agent.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")

    # The client asks for a chat: Tab to Join chat, Enter. The focus goes into the chat.
    press_tab_until(client, lambda now: now["name"] == "Join chat")
    client.keyboard.press("Enter")
    client_window = visible_chat(client)
    expect(client_window).to_contain_text("Waiting for an agent")
    session_id = client_window.get_attribute("data-session-id")
    assert focused(client)["chat"] == session_id

    # The agent: Ctrl+Alt+Q goes to the queue's Join; Enter answers. Focus: Message box.
    agent_queue = agent.locator(".ws-queue-item", has_text=SUBJECT)
    expect(agent_queue).to_be_visible()
    agent.keyboard.press("Control+Alt+KeyQ")
    assert focused(agent)["name"] == "Join"
    agent.keyboard.press("Enter")
    agent_window = visible_chat(agent)
    expect(agent_window).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    expect(agent_window.get_by_label("Message")).to_be_focused()
    assert focused(agent)["chat"] == session_id

    # The client's Message box opens and takes the focus.
    expect(client_window.get_by_label("Message")).to_be_focused()
    type_and_send(client, "Hello, it prints blank pages")
    expect(agent_window.get_by_role("log")).to_contain_text("Hello, it prints blank pages")
    assert is_message_box(focused(client))

    # The agent answers; after sending the focus stays in the Message box.
    type_and_send(agent, "Have you tried new toner?")
    expect(client_window.get_by_role("log")).to_contain_text("Have you tried new toner?")
    assert is_message_box(focused(agent))

    # "?" lists the shortcuts where nothing is typed: Tab to Send, "?", Escape.
    agent.keyboard.press("Tab")
    assert focused(agent)["name"] == "Send"
    agent.keyboard.press("?")
    shortcuts = agent.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    for keys in ("Next chat", "Previous chat", "Go to the message box", "End chat"):
        expect(shortcuts).to_contain_text(keys)
    screenshot(agent, "keyboard-1-shortcuts")
    agent.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()
    assert focused(agent)["name"] == "Send"
    agent.keyboard.press("Shift+Tab")
    assert is_message_box(focused(agent))

    # The menu by its shortcut; Escape gives the focus to its button; back to the box.
    agent.keyboard.press("Control+Alt+KeyO")
    expect(agent_window.get_by_role("menu")).to_be_visible()
    assert focused(agent)["name"] == "Invite agent…"
    agent.keyboard.press("Escape")
    expect(agent_window.get_by_role("button", name="More actions")).to_be_focused()
    agent.keyboard.press("Control+Alt+KeyM")
    assert is_message_box(focused(agent))

    # End chat by its shortcut; in the dialog, Tab to End chat and Enter.
    agent.keyboard.press("Control+Alt+KeyE")
    end_dialog = agent.get_by_role("dialog", name="End chat")
    expect(end_dialog).to_be_visible()
    press_tab_until(agent, lambda now: now["name"] == "End chat" and now["tag"] == "button")
    agent.keyboard.press("Enter")
    expect(end_dialog).to_be_hidden()
    expect(client_window).to_contain_text("The chat has ended.")
    # Both sides: the focus on Leave, what comes next.
    toolbar = agent_window.locator(".chat-toolbar")
    expect(toolbar.get_by_role("button", name="Leave", exact=True)).to_be_focused()
    expect(client_window.get_by_role("log").get_by_role("button", name="Leave")).to_be_focused()
    screenshot(client, "keyboard-2-client-ended")

    # Leave: the agent has no chat left, the focus goes to the list; the client's
    # goes back to Join chat.
    agent.keyboard.press("Enter")
    expect(agent.locator(".chat-window")).to_have_count(0)
    assert focused(agent) == {"tag": "h2", "name": "Chats", "chat": ""}
    client.keyboard.press("Enter")
    expect(client.locator(".chat-window")).to_have_count(0)
    assert focused(client)["name"] == "Join chat"


def test_the_clients_message_box_takes_the_focus_when_an_agent_answers(new_context, people) -> None:
    """Start a chat (a dialog that closes) and a pushed chat (a dialog answered by
    Accept): either way the focus ends in the chat, in the Message box once it opens."""
    agent = available_agent(new_context)
    client = open_as(new_context, "alice@acme.example")

    press_tab_until(client, lambda now: now["name"] == "Start a chat")
    client.keyboard.press("Enter")
    expect(client.get_by_label("Subject")).to_be_focused()
    client.keyboard.type("Cannot reach the VPN")
    client.keyboard.press("Enter")
    client_window = visible_chat(client)
    expect(client_window).to_contain_text("Waiting for an agent")
    assert focused(client)["chat"] == client_window.get_attribute("data-session-id")
    agent.keyboard.press("Control+Alt+KeyQ")
    agent.keyboard.press("Enter")
    expect(client_window.get_by_label("Message")).to_be_focused()

    # The agent pushes a chat on the ticket; Alice accepts with Enter.
    push_chat(agent, client, people["ticket"])
    press_tab_until(client, lambda now: now["name"] == "Accept")
    client.keyboard.press("Enter")
    pushed = client.locator(".chat-window", has_text=SUBJECT)
    expect(pushed.get_by_label("Message")).to_be_focused()


def test_a_dialog_that_closes_never_leaves_the_focus_on_body(new_context, people) -> None:
    """A pushed chat's invitation opens while nothing has the focus (there is no
    opener to go back to); Decline gives the focus to the page's heading."""
    agent = available_agent(new_context)
    client = open_as(new_context, "alice@acme.example")
    client.goto("/portal/")
    assert focused(client)["tag"] == "body"

    invitation = push_chat(agent, client, people["ticket"])
    press_tab_until(client, lambda now: now["name"] == "Decline")
    client.keyboard.press("Enter")
    expect(invitation).to_be_hidden()
    expect(client.locator("main h1")).to_be_focused()


# The contrast of the focus ring against what it is drawn on: the first opaque
# background outside the element (the ring is drawn 1-2 px outside it), or inside
# it for a ring drawn inside (a negative outline-offset).
RING = """() => {
  const node = document.activeElement;
  const style = getComputedStyle(node);
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  let behind = parseFloat(style.outlineOffset) < 0 ? node : node.parentElement;
  let bg = null;
  for (; behind; behind = behind.parentElement) {
    const color = rgb(getComputedStyle(behind).backgroundColor);
    if (color.length === 3 || (color.length === 4 && color[3] > 0.5)) { bg = color; break; }
  }
  bg = bg || [255, 255, 255];
  const ring = rgb(style.outlineColor);
  const [a, b] = [lum(ring), lum(bg)].sort((x, y) => y - x);
  return {
    what: node.tagName.toLowerCase() + " "
      + (node.getAttribute("aria-label") || node.textContent || "").trim().slice(0, 30),
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    contrast: (a + 0.05) / (b + 0.05),
  };
}"""


def rings_along_the_tab_order(page: Page, presses: int) -> list[dict]:
    rings = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            continue
        rings.append(page.evaluate(RING))
    return rings


def test_the_focus_ring_stands_out_everywhere(new_context, people) -> None:
    agent = available_agent(new_context)
    client = open_as(new_context, "alice@acme.example")
    client.goto(f"/portal/tickets/{people['ticket'].pk}/")
    client.get_by_role("button", name="Join chat").click()
    agent.locator(".ws-queue-item").get_by_role("button", name="Join").click()
    expect(visible_chat(client).get_by_label("Message")).to_be_enabled()

    agent.goto("/console/chats/")  # from the top: the dark bar, the panes, the chat's header
    client.goto(f"/portal/tickets/{people['ticket'].pk}/")
    expect(visible_chat(agent).get_by_label("Message")).to_be_enabled()
    rings = rings_along_the_tab_order(agent, 45) + rings_along_the_tab_order(client, 25)
    whats = " | ".join(ring["what"] for ring in rings)
    for expected in ("Available", "More actions", "Leave chat", "Send"):
        assert expected in whats, whats
    # The "⋯" menu is a light popup in the dark chat header: its items' ring is the
    # light surfaces' one. (The menu keeps the arrow keys, not Tab.)
    visible_chat(agent).get_by_role("button", name="More actions").focus()
    agent.keyboard.press("Enter")
    for _ in visible_chat(agent).get_by_role("menuitem").all():
        rings.append(agent.evaluate(RING))
        agent.keyboard.press("ArrowDown")
    assert "Add time entry" in " | ".join(ring["what"] for ring in rings)
    weak = [r for r in rings if r["style"] == "none" or r["width"] < 2 or r["contrast"] < 3]
    assert not weak, weak
