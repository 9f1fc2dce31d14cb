"""A client and an agent walk the main pages in Chromium, against a real daphne.

Screenshots of each main page land in var/screenshots/ for a human to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from accounts.models import User
from tests.e2e.helpers import form_titled, login, make_ticket, screenshot
from tests.personas import AGENT1, ALICE, CAROL
from tickets.models import Ticket


@dataclass
class Helpdesk:
    alice: User  # client of Acme
    agent: User  # agent1
    printer: Ticket  # Alice's ticket
    vpn: Ticket  # a Globex ticket Alice must never see


@pytest.fixture
def helpdesk(e2e_db: None) -> Helpdesk:
    alice = ALICE.create()
    carol = CAROL.create()  # of Globex
    return Helpdesk(
        alice=alice,
        agent=AGENT1.create(),
        printer=make_ticket(alice, "Printer on floor 2 is jammed", "Paper jam in tray 2."),
        vpn=make_ticket(carol, "Globex VPN is down", "Nobody can connect."),
    )


def status_tab(page: Page, label: str) -> Locator:
    """A console tab (Unassigned / Assigned / Closed); its name ends with the count."""
    tabs = page.get_by_role("navigation", name="Ticket status")
    return tabs.get_by_role("link", name=re.compile(rf"^{label}\b"))


def test_wrong_password_is_refused_without_detail(page: Page, helpdesk: Helpdesk) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(helpdesk.alice.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Email or password is incorrect.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    screenshot(page, "login-error")


def test_client_walks_the_portal(page: Page, helpdesk: Helpdesk) -> None:
    login(page, helpdesk.alice.email)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    expect(page.get_by_role("link", name=helpdesk.printer.subject)).to_be_visible()
    expect(page.get_by_text(helpdesk.vpn.subject)).to_have_count(0)
    screenshot(page, "portal-tickets")

    page.get_by_role("link", name=helpdesk.printer.subject).click()
    expect(page.get_by_role("heading", name=helpdesk.printer.subject)).to_be_visible()
    expect(page.get_by_text("Paper jam in tray 2.")).to_be_visible()
    note = form_titled(page, "Add a note")
    note.get_by_label("Note").fill("Still jammed after switching it off and on.")
    note.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Still jammed after switching it off and on.")).to_be_visible()
    screenshot(page, "portal-ticket")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="New ticket").click()
    expect(page.get_by_role("heading", name="New ticket")).to_be_visible()
    # By role: hidden fields (the "Start a chat" dialog also asks for a Subject) do not count.
    page.get_by_role("textbox", name="Subject").fill("New laptop for Bob")
    page.get_by_role("textbox", name="Description").fill("Bob starts on Monday and needs a laptop.")
    screenshot(page, "portal-new-ticket")
    page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("heading", name="New laptop for Bob")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tickets").click()
    expect(page.get_by_role("link", name="New laptop for Bob")).to_be_visible()
    expect(page.get_by_role("link", name=helpdesk.printer.subject)).to_be_visible()

    # Another company's ticket, asked for by URL: not found, nothing shown.
    response = page.goto(f"/portal/tickets/{helpdesk.vpn.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_text(helpdesk.vpn.subject)).to_have_count(0)


def test_agent_works_a_ticket_and_the_client_never_sees_internal_notes(
    page: Page, new_context: Callable[..., BrowserContext], helpdesk: Helpdesk
) -> None:
    login(page, helpdesk.agent.email)
    expect(page).to_have_url(re.compile(r"/console/"))
    # The console's websocket (daphne + Redis + session auth + origin check) is up, and
    # the presence toggle goes through it.
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    my_status = page.get_by_role("group", name="My status")
    my_status.get_by_role("button", name="Available").click()
    expect(my_status.get_by_role("button", name="Available")).to_have_attribute(
        "aria-pressed", "true"
    )
    for label in ("Unassigned", "Assigned", "Closed"):
        expect(status_tab(page, label)).to_be_visible()
    # Staff see every company's tickets.
    expect(page.get_by_role("link", name=helpdesk.vpn.subject)).to_be_visible()
    screenshot(page, "console-tickets")

    page.get_by_role("link", name=helpdesk.printer.subject).click()
    expect(page.get_by_role("heading", name=helpdesk.printer.subject)).to_be_visible()

    note = form_titled(page, "Add a note")
    note.get_by_label("Note").fill("Tray 2 roller is worn; ordering a spare.")
    note.get_by_label("Internal").check()
    note.get_by_role("button", name="Add note").click()
    internal = page.locator("article").filter(has_text="Tray 2 roller is worn")
    expect(internal).to_be_visible()
    expect(internal.get_by_text("Internal", exact=True)).to_be_visible()

    note = form_titled(page, "Add a note")
    note.get_by_label("Note").fill("A technician comes by this afternoon.")
    note.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("A technician comes by this afternoon.")).to_be_visible()

    # The Status card: its first value is the status, its second the assignee; the
    # assign / close / reopen buttons live in it too.
    side = page.get_by_role("region", name="Status", exact=True)
    status, assignee = side.get_by_role("definition").nth(0), side.get_by_role("definition").nth(1)
    side.get_by_role("button", name="Assign to me").click()
    expect(status).to_have_text("Assigned")
    expect(assignee).to_have_text(helpdesk.agent.full_name)
    screenshot(page, "console-ticket")

    side.get_by_role("button", name="Close", exact=True).click()
    expect(status).to_have_text("Closed")
    expect(side.get_by_role("button", name="Reopen")).to_be_visible()
    screenshot(page, "console-ticket-closed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("link", name=helpdesk.printer.subject)).to_have_count(0)
    status_tab(page, "Closed").click()
    page.get_by_role("link", name=helpdesk.printer.subject).click()

    side.get_by_role("button", name="Reopen").click()
    # Reopened, it goes back to its assignee.
    expect(status).to_have_text("Assigned")
    expect(side.get_by_role("button", name="Close", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tickets").click()
    status_tab(page, "Assigned").click()
    expect(page.get_by_role("link", name=helpdesk.printer.subject)).to_be_visible()

    # The client, in a browser context of its own, sees the public reply only.
    client_page = new_context().new_page()
    login(client_page, helpdesk.alice.email)
    client_page.goto(f"/portal/tickets/{helpdesk.printer.pk}/")
    expect(client_page.get_by_text("A technician comes by this afternoon.")).to_be_visible()
    expect(client_page.get_by_text("Tray 2 roller is worn")).to_have_count(0)
    expect(client_page.get_by_text("Internal", exact=True)).to_have_count(0)
    screenshot(client_page, "portal-ticket-after-agent")


def test_agent_logs_time_on_a_ticket_and_again_from_the_page_gone_back_to(
    page: Page, helpdesk: Helpdesk
) -> None:
    login(page, helpdesk.agent.email)
    page.goto(f"/console/tickets/{helpdesk.printer.pk}/")
    time_card = page.get_by_role("region", name="Time")
    time_card.get_by_label("Minutes").fill("25")
    time_card.get_by_label("Note").fill("Replaced the roller")
    time_card.get_by_role("button", name="Add time").click()
    expect(page.get_by_text("25 min logged.")).to_be_visible()
    expect(time_card.get_by_role("heading")).to_contain_text("25 min total")
    expect(time_card.get_by_text("Replaced the roller")).to_be_visible()

    # Back to the page as it was before the post: Chromium loads it again (a
    # page with an open websocket is never kept), so its form has a new id and
    # the second entry is logged beside the first, not taken for a resend.
    # (A browser that keeps the old form is answered 409: tests/tickets.)
    page.go_back()
    time_card.get_by_label("Minutes").fill("10")
    time_card.get_by_label("Note").fill("Test print")
    time_card.get_by_role("button", name="Add time").click()
    expect(page.get_by_text("10 min logged.")).to_be_visible()
    expect(time_card.get_by_role("heading")).to_contain_text("35 min total")
    screenshot(page, "console-time-entries")
    assert sorted(helpdesk.printer.time_entries.values_list("minutes", flat=True)) == [10, 25]
