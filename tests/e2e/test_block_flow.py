"""Block then a refused request: agent1 blocks alice (and her IP address) from
a live chat with a reason; alice is not told, and her next Join chat and
Start a chat are refused with the neutral message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chat.models import ChatBlock, ChatSession
from chat.services import UNAVAILABLE_MESSAGE
from tests.e2e.helpers import screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as, people, send  # noqa: F401
from tests.personas import ALICE

# Join opens the chat in the agent workspace.
WORKSPACE = re.compile(r"/console/chats/\?chat=\d+$")

pytestmark = pytest.mark.usefixtures("e2e_db")


def test_block_then_refused_request(new_context, people) -> None:  # noqa: F811
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    agent.wait_for_url(WORKSPACE)
    agent_window = chat_window(agent)
    client_window = chat_window(client)
    expect(client_window.get_by_label("Message")).to_be_enabled()
    send(client, "You are all useless")
    expect(agent_window).to_contain_text("You are all useless")

    # The dialog: a reason is required; the IP option warns about shared networks.
    agent_window.get_by_role("button", name="Block").click()
    dialog = agent.locator("dialog.chat-block-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        f"{ALICE.full_name} will not be able to start a chat for 24 hours"
    )
    dialog.get_by_role("button", name="Block").click()
    expect(dialog.get_by_role("alert")).to_have_text("Say why the client is blocked.")
    assert not ChatBlock.objects.exists()
    dialog.get_by_label("Reason (required)").fill("Abusive language towards the engineer")
    dialog.get_by_label("Also block IP address").check()
    warning = dialog.locator(".block-ip-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("office")
    expect(warning).to_contain_text("mobile carrier")
    screenshot(agent, "block-1-dialog")
    dialog.get_by_role("button", name="Block").click()
    expect(dialog).to_be_hidden()
    expect(agent.locator(".toast-info")).to_contain_text(
        re.compile(
            re.escape(ALICE.full_name) + r" and IP address 127\.0\.0\.1 are blocked from chat until"
        )
    )
    block = ChatBlock.objects.get()
    assert block.client == people["alice"]
    assert block.ip_address == "127.0.0.1"
    assert block.reason == "Abusive language towards the engineer"
    assert block.created_by == people["agent"]
    assert block.request_key is not None  # a resend of this try would return this block
    screenshot(agent, "block-2-blocked-toast")

    # The chat goes on, and alice sees nothing of the block.
    send(agent, "This chat will now end.")
    expect(client_window).to_contain_text("This chat will now end.")
    expect(client.locator("body")).not_to_contain_text("block", ignore_case=True)
    agent_window.get_by_role("button", name="End chat").click()
    agent.locator("dialog.chat-end-dialog").get_by_role("button", name="End chat").click()
    expect(client_window).to_contain_text("The chat has ended.")
    client_window.locator(".chat-log").get_by_role("button", name="Leave").click()
    expect(client.locator(".chat-window")).to_have_count(0)
    sessions = ChatSession.objects.count()

    # Join chat on the ticket: refused with the neutral message.
    client.reload()
    client.get_by_role("button", name="Join chat").click()
    toast = client.locator(".toast-error")
    expect(toast).to_have_text(re.compile(re.escape(UNAVAILABLE_MESSAGE)))
    expect(client.locator(".chat-window")).to_have_count(0)
    screenshot(client, "block-4-client-refused-toast")

    # Start a chat: the same message, in the dialog.
    client.goto("/portal/")
    client.get_by_role("button", name="Start a chat").click()
    start = client.locator("#chat-start-dialog")
    start.get_by_label("Subject").fill("Let me in again")
    start.get_by_role("button", name="Start chat").click()
    expect(start.get_by_role("alert")).to_have_text(UNAVAILABLE_MESSAGE)
    expect(client.locator(".chat-window")).to_have_count(0)
    screenshot(client, "block-3-client-refused")
    assert ChatSession.objects.count() == sessions


def test_join_at_capacity_is_refused_with_a_toast(new_context, people, settings) -> None:  # noqa: F811
    """The console shows the at_capacity refusal of Join as a toast, and the
    request stays in the queue for another agent."""
    from chat import services
    from chat.models import ChatKind
    from tests.factories import client_user

    limit = settings.MAX_CHATS_PER_AGENT  # daphne runs with the same default
    for i in range(limit):
        busy = services.session_request(
            client=client_user(full_name=f"Busy Client {i}"),
            kind=ChatKind.PRE_TICKET,
            subject=f"Ongoing {i}",
        )
        services.session_join(session_id=busy.pk, agent=people["agent"])
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    expect(agent.locator("#session-manager .sm-mine .sm-item")).to_have_count(limit)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    expect(agent.locator(".toast-error")).to_contain_text(
        f"You are already in {limit} live chats, the most one agent may have."
    )
    screenshot(agent, "capacity-1-refused-toast")
    expect(agent.locator("#session-manager .sm-queue")).to_contain_text(
        "Printer prints blank pages"
    )
    expect(chat_window(client)).to_contain_text("Waiting for an agent")
    session = ChatSession.objects.get(ticket=people["ticket"])
    assert session.status == "waiting"
