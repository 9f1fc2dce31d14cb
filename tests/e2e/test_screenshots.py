"""Screenshots of the main screens, for the README: the portal's ticket with a
chat, the console's home, the agent workspace, a console ticket with its chat,
the supervisor watching a chat, and the chat on a phone. Each scene is set up through the
chat services (tests/e2e/scenes.py), then drawn as its person sees it.

The test runs with the others and keeps its pictures in var/screenshots/docs/.
`SWITCHBOARD_DOCS_SCREENSHOTS=1` writes them to docs/screenshots/ instead (the
committed ones the README shows): run it so when the screens change, and
commit the PNGs. (Every run draws other times and waits, so the suite does not
rewrite the committed files by itself.)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from chat import services
from tests.e2e.helpers import make_ticket
from tests.e2e.scenes import Helpdesk, chat_window
from tests.personas import AGENT1, ALICE, SUPERVISOR

pytestmark = pytest.mark.usefixtures("e2e_db")

ROOT = Path(__file__).resolve().parent.parent.parent
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def shots_dir() -> Path:
    if os.environ.get("SWITCHBOARD_DOCS_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return ROOT / "var" / "screenshots" / "docs"


def shoot(page: Page, name: str) -> None:
    folder = shots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), animations="disabled", caret="initial")


@pytest.fixture
def helpdesk(new_context: Callable[..., BrowserContext]) -> Helpdesk:
    h = Helpdesk.create(new_context)
    # A ticket list with a few more rows than the chat's ticket.
    make_ticket(h.bob, "New laptop for Bob", "He starts on Monday.")
    make_ticket(h.alice, "Shared drive asks for a password", "Since the update.")
    return h


def test_main_screens(helpdesk: Helpdesk) -> None:
    session = helpdesk.alice_chats()
    services.message_send(
        session_id=session.pk,
        author=helpdesk.alice,
        client_id=uuid.uuid4(),
        body="Not yet. I will try one now.",
    )
    helpdesk.bob_waits()

    portal = helpdesk.open_as(
        ALICE.email, f"/portal/tickets/{helpdesk.ticket.pk}/", viewport=DESKTOP
    )
    expect(chat_window(portal)).to_contain_text("I will try one now.")
    shoot(portal, "portal-ticket-chat")

    console = helpdesk.open_as(AGENT1.email, "/console/", viewport=DESKTOP)
    expect(console.locator("#session-manager .sm-queue")).to_contain_text("Cannot reach the VPN")
    expect(chat_window(console)).to_contain_text("I will try one now.")
    shoot(console, "console-home")

    console.goto(f"/console/chats/?chat={session.pk}")
    workspace = console.locator("#workspace")
    expect(workspace.locator(".chat-window:visible")).to_contain_text("I will try one now.")
    expect(workspace.locator("[data-ws-context]")).to_contain_text(helpdesk.ticket.subject)
    shoot(console, "workspace")

    console.goto(f"/console/tickets/{helpdesk.ticket.pk}/")
    expect(chat_window(console)).to_contain_text("I will try one now.")
    shoot(console, "console-ticket")

    supervisor = helpdesk.open_as(SUPERVISOR.email, "/console/supervisor/", viewport=DESKTOP)
    card = supervisor.locator(".sv-agent", has_text=AGENT1.full_name)
    card.get_by_role("button", name="Watch chat: #").click()
    expect(supervisor.locator("#sv-watch")).to_contain_text("I will try one now.")
    shoot(supervisor, "supervisor")

    phone = helpdesk.open_as(
        ALICE.email, f"/portal/tickets/{helpdesk.ticket.pk}/", viewport=PHONE, is_mobile=True
    )
    expect(chat_window(phone).get_by_label("Message")).to_be_enabled()
    shoot(phone, "phone-chat")

    names = sorted(path.name for path in shots_dir().glob("*.png"))
    for name in ("console-home", "console-ticket", "phone-chat", "portal-ticket-chat", "workspace"):
        assert f"{name}.png" in names
