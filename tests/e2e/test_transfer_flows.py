"""Transfer in the browser: agent1 hands a live chat to agent2 with a reason;
agent2 is told and gets the window, agent1's window closes, and alice keeps
chatting in the same window with the new agent."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chat.models import ChatTransfer
from presence.models import PresenceStatus
from tests.e2e.helpers import make_ticket, screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as, send
from tests.personas import AGENT1, AGENT2, ALICE, SUPERVISOR

pytestmark = pytest.mark.usefixtures("e2e_db")

SUBJECT = "Printer prints blank pages"
TOM = AGENT2.first_name  # agent2, as the people in the chat call him


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    agent1 = AGENT1.create(presence=PresenceStatus.OFFLINE)
    agent2 = AGENT2.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, SUBJECT)
    return {"alice": alice, "agent1": agent1, "agent2": agent2, "ticket": ticket}


def test_transfer_to_agent2(new_context, people) -> None:
    agent1 = open_as(new_context, "agent1@example.com")
    # A quiet console shows its empty lists, not "Connecting…".
    expect(agent1.locator("#session-manager")).to_contain_text("Nobody is waiting.")
    go_available(agent1)
    agent2 = open_as(new_context, "agent2@example.com")
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name=SUBJECT).click()
    client.get_by_role("button", name="Join chat").click()
    agent1.locator("#session-manager .sm-queue").get_by_role("button", name="Join").click()
    expect(chat_window(agent1)).to_contain_text(f"{AGENT1.full_name} joined the chat.")

    # Tom is away: the pick list offers nobody until he is available and the
    # list is refreshed.
    chat_window(agent1).get_by_role("button", name="Transfer").click()
    dialog = agent1.locator("dialog.chat-transfer-dialog")
    expect(dialog).to_contain_text("Nobody is available to take this chat right now.")
    go_available(agent2)
    dialog.get_by_role("button", name="Refresh list").click()
    dialog.get_by_label("Transfer to").select_option(label=f"{AGENT2.full_name} (0 of 5 chats)")
    dialog.get_by_role("button", name="Transfer").click()
    expect(dialog.get_by_role("alert")).to_have_text("Say why the chat is transferred.")
    dialog.get_by_label("Reason").fill(f"{TOM} knows this printer")
    screenshot(agent1, "transfer-1-dialog")
    dialog.get_by_role("button", name="Transfer").click()
    expect(dialog).to_be_hidden()

    # agent1 is out of the chat; agent2 has it, with who and why.
    expect(agent1.locator(".chat-window")).to_have_count(0)
    expect(agent2.locator(".toast-info")).to_contain_text(
        f"{AGENT1.full_name} handed you the chat with {ALICE.full_name}: {TOM} knows this printer"
    )
    window2 = chat_window(agent2)
    expect(window2).to_contain_text(
        f"{AGENT1.full_name} transferred the chat to {AGENT2.full_name}."
    )
    screenshot(agent2, "transfer-2-new-agent")

    client_window = chat_window(client)
    expect(client_window).to_contain_text(
        f"{AGENT1.full_name} transferred the chat to {AGENT2.full_name}."
    )
    expect(client_window).not_to_contain_text(f"{TOM} knows this printer")
    send(client, f"Hello {TOM}")
    expect(window2).to_contain_text(f"Hello {TOM}")
    send(agent2, f"Hi Alice, {TOM} here")
    expect(client_window).to_contain_text(f"Hi Alice, {TOM} here")
    screenshot(client, "transfer-3-client")

    transfer = ChatTransfer.objects.get()
    assert (transfer.from_agent, transfer.to_agent) == (people["agent1"], people["agent2"])
    assert transfer.reason == f"{TOM} knows this printer"


def test_supervisor_assigns_a_waiting_request(new_context, people) -> None:
    SUPERVISOR.create()
    agent2 = open_as(new_context, "agent2@example.com")
    go_available(agent2)
    supervisor = open_as(new_context, "supervisor@example.com")
    supervisor.goto("/console/supervisor/")
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name=SUBJECT).click()
    client.get_by_role("button", name="Join chat").click()

    row = supervisor.locator(".sv-queue .sv-chat", has_text=SUBJECT)
    row.get_by_role("button", name=f"Assign chat: #{people['ticket'].pk} {SUBJECT}").click()
    dialog = supervisor.locator("dialog.chat-transfer-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Assign chat")
    dialog.get_by_label("Transfer to").select_option(label=f"{AGENT2.full_name} (0 of 5 chats)")
    dialog.get_by_label("Reason").fill(f"{TOM} is on printers today")
    screenshot(supervisor, "transfer-4-assign")
    dialog.get_by_role("button", name="Assign").click()
    expect(dialog).to_be_hidden()

    expect(chat_window(agent2)).to_contain_text(
        f"{SUPERVISOR.full_name} assigned the chat to {AGENT2.full_name}."
    )
    expect(agent2.locator(".toast-info")).to_contain_text(
        f"{SUPERVISOR.full_name} handed you the chat"
    )
    client_window = chat_window(client)
    expect(client_window.get_by_label("Message")).to_be_enabled()
    send(agent2, "Hello Alice")
    expect(client_window).to_contain_text("Hello Alice")
    expect(supervisor.locator(".sv-queue")).to_contain_text("Nobody is waiting.")
