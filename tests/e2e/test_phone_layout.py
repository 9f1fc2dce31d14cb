"""Small screens: the portal and its chat on phones (390 x 844 and 360 x 780), the console
on a tablet (768 x 1024). Nothing scrolls or sticks out sideways, the header keeps to two
rows, an open chat on a phone is a full-screen sheet with its message box in view, and
on the tablet the Chats panel sits under the header and beside the page, not over them.
Screenshots of each land in var/screenshots/ (phone-*, tablet-*)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from chat import services
from chat.models import ChatSession
from tests.e2e.helpers import screenshot
from tests.e2e.scenes import Helpdesk, chat_window
from tests.personas import AGENT1, ALICE, SUPERVISOR

pytestmark = pytest.mark.usefixtures("e2e_db")

PHONES = {"390x844": {"width": 390, "height": 844}, "360x780": {"width": 360, "height": 780}}
TABLET = {"width": 768, "height": 1024}

# What must stay within the width of the screen, fixed or not.
ON_SCREEN = ".topbar, main, .chat-window, .session-manager, .toasts > *, dialog[open]"


@pytest.fixture
def helpdesk(new_context: Callable[..., BrowserContext]) -> Helpdesk:
    return Helpdesk.create(new_context)


def sideways_problems(page: Page) -> list[str]:
    """Why the page can be scrolled sideways, or what sticks out of the screen's width."""
    found: dict[str, Any] = page.evaluate(
        """(selector) => ({
          scrollWidth: document.scrollingElement.scrollWidth,
          width: innerWidth,
          out: [...document.querySelectorAll(selector)]
            .filter((node) => node.getClientRects().length)
            .map((node) => [node.className || node.tagName, node.getBoundingClientRect()])
            .filter(([, r]) => r.left < -0.5 || r.right > innerWidth + 0.5)
            .map(([name, r]) => `${name}: ${Math.round(r.left)} to ${Math.round(r.right)}`),
        })""",
        ON_SCREEN,
    )
    problems = [f"sticks out of the {found['width']} px: {what}" for what in found["out"]]
    if found["scrollWidth"] > found["width"]:
        problems.append(f"scrolls sideways: {found['scrollWidth']} px wide")
    return problems


def header_rows(page: Page) -> int:
    """The rows the header's brand, links and tools take (one row: tops within 12 px)."""
    tops: list[float] = page.evaluate(
        """() => [".brand", ".mainnav", ".topbar-tools"]
          .map((s) => document.querySelector(s)).filter((n) => n && n.getClientRects().length)
          .map((n) => n.getBoundingClientRect().top)"""
    )
    rows: list[float] = []
    for top in sorted(tops):
        if not rows or top - rows[-1] > 12:
            rows.append(top)
    return len(rows)


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


@pytest.mark.parametrize("size", PHONES)
def test_portal_and_chat_on_a_phone(size: str, helpdesk: Helpdesk) -> None:
    screen = PHONES[size]
    client = helpdesk.open_as(ALICE.email, "/portal/", viewport=screen)
    expect(client.get_by_role("heading", name="My tickets")).to_be_visible()
    assert sideways_problems(client) == []
    assert header_rows(client) <= 2
    # The name, cut short, still leads to Your settings (the time zone).
    expect(client.get_by_title(f"Your settings ({ALICE.email})")).to_be_in_viewport(ratio=1)
    screenshot(client, f"phone-{size}-1-home", full_page=False)

    client.get_by_role("button", name="Start a chat").click()
    expect(client.get_by_label("Subject")).to_be_in_viewport()
    assert sideways_problems(client) == []
    client.get_by_role("button", name="Cancel").click()

    client.get_by_role("link", name=helpdesk.ticket.subject).click()
    client.get_by_role("button", name="Join chat").click()
    window = chat_window(client)
    expect(window).to_contain_text("Waiting for an agent")
    # A full-screen sheet over the page and its header.
    assert box(client, ".chat-window") == {"x": 0, "y": 0, **screen}
    assert sideways_problems(client) == []
    screenshot(client, f"phone-{size}-2-waiting", full_page=False)

    session = ChatSession.objects.get(ticket=helpdesk.ticket)
    helpdesk.agent_joins(session)
    message_box = window.get_by_label("Message")
    expect(message_box).to_be_enabled()
    expect(message_box).to_be_in_viewport(ratio=1)
    expect(window.get_by_role("button", name="Send")).to_be_in_viewport(ratio=1)
    message_box.fill("It prints blank pages since this morning")
    message_box.press("Enter")
    services.message_send(
        session_id=session.pk,
        author=helpdesk.agent,
        client_id=uuid.uuid4(),
        body="Have you tried a new toner cartridge? https://kb.example/toner?model=4",
    )
    expect(window).to_contain_text("Have you tried a new toner cartridge?")
    expect(message_box).to_be_in_viewport(ratio=1)
    assert sideways_problems(client) == []
    screenshot(client, f"phone-{size}-3-chatting", full_page=False)

    # Minimized, the chat is a bar along the bottom and the ticket shows again.
    window.get_by_role("button", name="Minimize chat").click()
    bar = box(client, ".chat-window")
    assert bar["y"] + bar["height"] == pytest.approx(screen["height"], abs=1)
    assert bar["height"] < 100
    heading = client.get_by_role("heading", name=helpdesk.ticket.subject, exact=True)
    expect(heading).to_be_in_viewport()
    assert sideways_problems(client) == []
    # The end of the page scrolls clear of the bar.
    client.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    add_note = box(client, "#add-note button[type=submit]")
    assert add_note["y"] + add_note["height"] <= box(client, ".chat-window")["y"]
    screenshot(client, f"phone-{size}-4-minimized", full_page=False)


@pytest.mark.parametrize(
    ("email", "path"),
    [
        (AGENT1.email, "/console/"),
        (AGENT1.email, "/console/tickets/{ticket}/"),
        (SUPERVISOR.email, "/console/supervisor/"),
    ],
)
def test_console_on_a_tablet(email: str, path: str, helpdesk: Helpdesk) -> None:
    """With a request in the queue and the agent's chat docked."""
    helpdesk.alice_chats()
    helpdesk.bob_waits()
    page = helpdesk.open_as(email, path.format(ticket=helpdesk.ticket.pk), viewport=TABLET)
    expect(page.locator("#session-manager")).to_contain_text("Cannot reach the VPN")
    expect(page.locator("h1")).to_be_visible()
    assert sideways_problems(page) == []
    header, panel, main = box(page, ".topbar"), box(page, "#session-manager"), box(page, "main")
    assert panel["y"] >= header["y"] + header["height"], "the Chats panel covers the header"
    assert main["x"] + main["width"] <= panel["x"], "the Chats panel covers the page"
    name = path.strip("/").replace("/", "-").replace("{ticket}", "ticket")
    screenshot(page, f"tablet-{name}")
