"""Transfer in the browser: agent1 hands a live chat to agent2 with a reason;
agent2 is told and gets the window, agent1's window closes, and alice keeps
chatting in the same window with the new agent."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chat.models import ChatTransfer
from presence.models import AgentPresence, PresenceStatus
from tests.e2e.helpers import make_agent, make_client, make_company, make_ticket, screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as, send

pytestmark = pytest.mark.usefixtures("e2e_db")

SUBJECT = "Printer prints blank pages"


@pytest.fixture
def people() -> dict:
    acme = make_company("Acme")
    alice = make_client("alice@acme.example", "Alice Turner", acme)
    agent1 = make_agent("agent1@example.com", "Ada Agent")
    agent2 = make_agent("agent2@example.com", "Tom Becker")
    for agent in (agent1, agent2):
        AgentPresence.objects.create(user=agent, status=PresenceStatus.OFFLINE)
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
    expect(chat_window(agent1)).to_contain_text("Ada Agent joined the chat.")

    # Tom is away: the pick list offers nobody until he is available and the
    # list is refreshed.
    chat_window(agent1).get_by_role("button", name="Transfer").click()
    dialog = agent1.locator("dialog.chat-transfer-dialog")
    expect(dialog).to_contain_text("Nobody is available to take this chat right now.")
    go_available(agent2)
    dialog.get_by_role("button", name="Refresh list").click()
    dialog.get_by_label("Transfer to").select_option(label="Tom Becker (0 of 5 chats)")
    dialog.get_by_role("button", name="Transfer").click()
    expect(dialog.get_by_role("alert")).to_have_text("Say why the chat is transferred.")
    dialog.get_by_label("Reason").fill("Tom knows this printer")
    screenshot(agent1, "transfer-1-dialog")
    dialog.get_by_role("button", name="Transfer").click()
    expect(dialog).to_be_hidden()

    # agent1 is out of the chat; agent2 has it, with who and why.
    expect(agent1.locator(".chat-window")).to_have_count(0)
    expect(agent2.locator(".toast-info")).to_contain_text(
        "Ada Agent handed you the chat with Alice Turner: Tom knows this printer"
    )
    window2 = chat_window(agent2)
    expect(window2).to_contain_text("Ada Agent transferred the chat to Tom Becker.")
    screenshot(agent2, "transfer-2-new-agent")

    client_window = chat_window(client)
    expect(client_window).to_contain_text("Ada Agent transferred the chat to Tom Becker.")
    expect(client_window).not_to_contain_text("Tom knows this printer")
    send(client, "Hello Tom")
    expect(window2).to_contain_text("Hello Tom")
    send(agent2, "Hi Alice, Tom here")
    expect(client_window).to_contain_text("Hi Alice, Tom here")
    screenshot(client, "transfer-3-client")

    transfer = ChatTransfer.objects.get()
    assert (transfer.from_agent, transfer.to_agent) == (people["agent1"], people["agent2"])
    assert transfer.reason == "Tom knows this printer"


def test_supervisor_assigns_a_waiting_request(new_context, people) -> None:
    from tests.factories import SupervisorFactory

    SupervisorFactory(email="supervisor@example.com", full_name="Sam Rivera")
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
    dialog.get_by_label("Transfer to").select_option(label="Tom Becker (0 of 5 chats)")
    dialog.get_by_label("Reason").fill("Tom is on printers today")
    screenshot(supervisor, "transfer-4-assign")
    dialog.get_by_role("button", name="Assign").click()
    expect(dialog).to_be_hidden()

    expect(chat_window(agent2)).to_contain_text("Sam Rivera assigned the chat to Tom Becker.")
    expect(agent2.locator(".toast-info")).to_contain_text("Sam Rivera handed you the chat")
    client_window = chat_window(client)
    expect(client_window.get_by_label("Message")).to_be_enabled()
    send(agent2, "Hello Alice")
    expect(client_window).to_contain_text("Hello Alice")
    expect(supervisor.locator(".sv-queue")).to_contain_text("Nobody is waiting.")
