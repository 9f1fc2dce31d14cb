"""Console pages follow the tickets live (ticket.changed over the socket), with
no reload: a ticket a client opens appears in the ticket list, the assignee
changes when an agent joins a chat on a ticket nobody had, and the Time card
shows a time entry logged from the chat (in the agent workspace)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from presence.models import PresenceStatus
from tests.e2e.helpers import make_ticket, screenshot
from tests.e2e.test_agent_tools_flows import menu_item
from tests.e2e.test_chat_flows import chat_window, go_available, open_as
from tests.personas import AGENT1, AGENT2, ALICE

pytestmark = pytest.mark.usefixtures("e2e_db")

WORKSPACE = re.compile(r"/console/chats/\?chat=\d+$")


def test_a_new_ticket_appears_in_the_ticket_list(new_context) -> None:
    alice = ALICE.create()
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    make_ticket(alice, "Printer prints blank pages")
    agent = open_as(new_context, "agent1@example.com")
    agent.goto("/console/?status=unassigned")
    rows = agent.locator(".table-tickets tbody tr")
    expect(rows).to_have_count(1)
    unassigned_tab = agent.get_by_role("link", name="Unassigned", exact=True)
    expect(unassigned_tab.locator(".count")).to_have_text("1")
    # The page has its socket: only then can it hear anything.
    expect(agent.locator("[data-socket-state]")).to_have_attribute("data-state", "open")

    client = open_as(new_context, "alice@acme.example")
    client.goto("/portal/tickets/new/")
    client.get_by_role("textbox", name="Subject").fill("VPN drops every hour")
    client.get_by_role("textbox", name="Description").fill("Since Monday.")
    client.get_by_role("button", name="Create ticket").click()
    client.wait_for_url("**/portal/tickets/*/")

    expect(rows).to_have_count(2)
    newest = rows.first
    expect(newest).to_contain_text("VPN drops every hour")
    expect(newest).to_contain_text(ALICE.full_name)
    expect(newest.get_by_role("link", name="VPN drops every hour")).to_have_attribute(
        "href", re.compile(r"^/console/tickets/\d+/$")
    )
    expect(unassigned_tab.locator(".count")).to_have_text("2")
    screenshot(agent, "live-1-new-ticket-in-list")


def test_assignee_and_time_card_follow_the_chat(new_context) -> None:
    alice = ALICE.create()
    AGENT1.create(presence=PresenceStatus.OFFLINE)
    AGENT2.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, "Printer prints blank pages")

    # agent2 keeps the ticket page and the Unassigned list open.
    watcher = open_as(new_context, "agent2@example.com")
    watcher.goto(f"/console/tickets/{ticket.pk}/")
    status_card = watcher.locator("section", has=watcher.get_by_role("heading", name="Status"))
    time_card = watcher.locator("section", has=watcher.get_by_role("heading", name="Time"))
    expect(status_card).to_contain_text("Nobody")
    expect(time_card).to_contain_text("No time logged yet.")
    listing = new_context().new_page()
    listing.context.add_cookies(watcher.context.cookies())
    listing.goto("/console/?status=unassigned")
    expect(listing.locator(".table-tickets tbody tr")).to_have_count(1)
    for page in (watcher, listing):
        expect(page.locator("[data-socket-state]")).to_have_attribute("data-state", "open")

    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    agent.wait_for_url(WORKSPACE)  # the chat is worked in the workspace
    expect(chat_window(agent)).to_contain_text(f"{AGENT1.full_name} joined the chat.")

    # Joining the chat on a ticket nobody had made agent1 its assignee.
    expect(status_card.locator("[data-ticket-assignee]")).to_have_text(AGENT1.full_name)
    expect(status_card.locator(".badge")).to_have_text("Assigned")
    expect(listing.locator(".table-tickets tbody tr")).to_have_count(0)
    expect(listing.get_by_role("link", name="Assigned", exact=True).locator(".count")).to_have_text(
        "1"
    )

    menu_item(agent, "Add time entry…")
    dialog = agent.locator("dialog.chat-time-dialog")
    minutes = dialog.get_by_label("Minutes")
    expect(minutes).not_to_have_value("")  # the chat's duration, prefilled: then ours
    minutes.fill("12")
    dialog.get_by_role("button", name="Add time entry").click()
    expect(dialog).to_be_hidden()

    time_entries = time_card.locator(".time-entries")
    expect(time_entries.locator("li")).to_have_count(1)
    expect(time_entries).to_contain_text("12 min")
    expect(time_entries).to_contain_text(AGENT1.full_name)
    expect(time_entries).to_contain_text(f"Chat with {ALICE.full_name}")
    expect(time_card).to_contain_text("12 min total")
    expect(time_card.get_by_text("No time logged yet.")).to_be_hidden()
    screenshot(watcher, "live-2-time-card")

    # agent2 logs time on the ticket's page: agent1's workspace shows the chat's
    # ticket with it, without a reload.
    context = agent.locator("#workspace [data-ws-context]")
    expect(context).to_contain_text("12 min")
    watcher.get_by_role("spinbutton", name="Minutes").fill("5")
    watcher.get_by_role("button", name="Add time").click()
    expect(context).to_contain_text("17 min")
