"""The agent's chat-window tools, clicked through: agent1 invites agent2 who
joins, inserts a greeting template and sends it, copies the chat log, and adds
a time entry with the prefilled duration that shows on the ticket page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from chat.models import ChatSession, ChatTemplate, TemplateKind
from presence.models import PresenceStatus
from tests.e2e.helpers import login, make_ticket, screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as
from tests.personas import AGENT1, AGENT2, ALICE
from tickets.models import TimeEntry

# Join opens the chat in the agent workspace.
WORKSPACE = re.compile(r"/console/chats/\?chat=\d+$")

pytestmark = pytest.mark.usefixtures("e2e_db")


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    agent1 = AGENT1.create(presence=PresenceStatus.OFFLINE)
    agent2 = AGENT2.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, "Printer prints blank pages")
    ChatTemplate.objects.create(
        kind=TemplateKind.GREETING,
        title="Hello",
        body="Hi {client_first_name}, this is {agent_name} from the helpdesk.",
    )
    ChatTemplate.objects.create(
        kind=TemplateKind.FAREWELL, title="Goodbye", body="Bye {client_first_name}!"
    )
    return {"alice": alice, "agent1": agent1, "agent2": agent2, "ticket": ticket}


def open_with_clipboard(new_context: Callable[..., BrowserContext], email: str) -> Page:
    page = new_context(permissions=["clipboard-read", "clipboard-write"]).new_page()
    page.set_default_timeout(10_000)
    login(page, email)
    return page


def menu_item(page: Page, label: str) -> None:
    window = chat_window(page)
    window.get_by_role("button", name="More actions").click()
    window.get_by_role("menuitem", name=label).click()


def test_invite_template_copy_log_and_time_entry(new_context, people) -> None:
    agent1 = open_with_clipboard(new_context, "agent1@example.com")
    go_available(agent1)
    agent2 = open_as(new_context, "agent2@example.com")
    go_available(agent2)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()

    agent1.locator(".toast-request").get_by_role("button", name="Join").click()
    agent1.wait_for_url(WORKSPACE)
    window = chat_window(agent1)
    expect(window).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    client_window = chat_window(client)
    expect(client_window.get_by_label("Message")).to_be_enabled()

    # --- Invite agent2 --------------------------------------------------------------
    window.get_by_role("button", name="More actions").click()
    expect(window.get_by_role("menu")).to_be_visible()
    screenshot(agent1, "tools-1-menu")
    window.get_by_role("menuitem", name="Invite agent…").click()
    invite = agent1.locator("dialog.chat-invite-dialog")
    invite.get_by_label(AGENT2.full_name).check()
    screenshot(agent1, "tools-2-invite-dialog")
    invite.get_by_role("button", name="Invite").click()
    expect(invite).to_be_hidden()
    expect(window.locator(".chat-flash")).to_have_text(f"Invited {AGENT2.full_name}")
    expect(window).to_contain_text(f"{AGENT1.full_name} invited {AGENT2.full_name} to the chat.")

    toast = agent2.locator(".toast-invite")
    expect(toast).to_contain_text(
        f"{AGENT1.full_name} invites you to the chat with {ALICE.full_name}"
    )
    screenshot(agent2, "tools-3-invitation-toast")
    toast.get_by_role("button", name="Join").click()
    agent2.wait_for_url(WORKSPACE)
    expect(chat_window(agent2)).to_contain_text(f"{AGENT2.full_name} joined the chat.")
    # The participants list of the room is live.
    expect(window.locator(".chat-participants summary")).to_have_text("In the room (3)")
    window.locator(".chat-participants summary").click()
    expect(window.locator(".chat-participants-list")).to_contain_text(AGENT2.full_name)
    expect(client_window).to_contain_text(f"{AGENT2.full_name} joined the chat.")

    # --- Greeting template into the box, then sent by the agent ------------------------
    menu_item(agent1, "Insert template…")
    templates = agent1.locator("dialog.chat-templates-dialog")
    expect(templates).to_contain_text("Greetings")
    expect(templates).to_contain_text("Farewells")
    screenshot(agent1, "tools-4-templates")
    templates.get_by_role("button", name="Hello").click()
    expect(templates).to_be_hidden()
    greeting = f"Hi {ALICE.first_name}, this is {AGENT1.full_name} from the helpdesk."
    expect(window.get_by_label("Message")).to_have_value(greeting)
    # Inserted, not sent: nothing new in the client's log yet.
    expect(client_window.locator(".chat-line", has_text=greeting)).to_have_count(0)
    window.get_by_label("Message").press("Enter")
    expect(client_window.locator(".chat-line", has_text=greeting)).to_have_count(1)
    expect(chat_window(agent2)).to_contain_text(greeting)

    # --- Copy chat log --------------------------------------------------------------------
    menu_item(agent1, "Copy chat log")
    expect(window.locator(".chat-flash")).to_have_text("Copied")
    copied = agent1.evaluate("navigator.clipboard.readText()")
    session = ChatSession.objects.get(ticket=people["ticket"])
    assert copied.startswith(f"Chat {session.pk}: #{people['ticket'].pk} Printer prints blank")
    assert f"{AGENT1.full_name}: {greeting}" in copied

    # --- Time entry with the prefilled duration ----------------------------------------------
    menu_item(agent1, "Add time entry…")
    dialog = agent1.locator("dialog.chat-time-dialog")
    minutes = dialog.get_by_label("Minutes")
    expect(minutes).not_to_have_value("")
    prefilled = minutes.input_value()
    assert prefilled in ("1", "2"), prefilled  # the chat is seconds old: rounded up
    # A readable line (who, when, how long, what about), not the raw log.
    summary = re.compile(
        rf"^Chat with {ALICE.full_name} \(Acme\) on \d+ \w{{3}} \d{{4}}, \d\d:\d\d–\d\d:\d\d "
        rf"\(\d+ min\), answered by {AGENT1.full_name} and {AGENT2.full_name}\. "
        "Subject: Printer prints blank pages$"
    )
    expect(dialog.get_by_label("Note")).to_have_value(summary)
    screenshot(agent1, "tools-5-time-entry")
    # A bad value first: a clear error, nothing written.
    minutes.fill("0")
    dialog.get_by_role("button", name="Add time entry").click()
    expect(dialog.locator(".form-error")).to_have_text("Minutes must be a positive whole number.")
    assert not TimeEntry.objects.exists()
    minutes.fill(prefilled)
    dialog.get_by_role("button", name="Add time entry").click()
    expect(dialog).to_be_hidden()
    expect(window.locator(".chat-flash")).to_have_text(
        f"Logged {prefilled} min on ticket #{people['ticket'].pk}"
    )
    entry = TimeEntry.objects.get(ticket=people["ticket"])
    assert (entry.agent, entry.minutes) == (people["agent1"], int(prefilled))
    assert summary.match(entry.note) and "*" not in entry.note
    assert entry.client_id is not None  # a resend of this try would return this entry

    # The workspace's context pane reads the ticket again: the time is there.
    context = agent1.get_by_role("region", name="About this chat")
    expect(context.locator(".ws-time")).to_contain_text(f"{prefilled} min")
    agent1.goto(f"/console/tickets/{people['ticket'].pk}/")
    time_card = agent1.locator(".time-entries")
    expect(time_card).to_contain_text(f"{prefilled} min")
    expect(time_card).to_contain_text(AGENT1.full_name)
    expect(time_card).to_contain_text(f"Chat with {ALICE.full_name} (Acme) on ")
    screenshot(agent1, "tools-6-ticket-time")
