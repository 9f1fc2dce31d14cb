"""The agent workspace (/console/chats/): Join from the console's home lands there with
the chat open and the focus in its Message box; two chats side by side in the list,
each keeping its draft and its scroll position when the agent switches between them;
the list's last message and unread count; the context pane (ticket, contact); the
docked windows on the other console pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from chat import services
from chat.models import ChatKind, ChatSession
from presence.models import PresenceStatus
from tests.e2e.chat_steps import focused, go_available, open_as, visible_chat
from tests.e2e.helpers import make_ticket, screenshot
from tests.factories import client_user
from tests.personas import ACME, AGENT1, ALICE, BOB, CAROL, DAVE, company

pytestmark = pytest.mark.usefixtures("e2e_db")

ALICE_SUBJECT = "Printer prints blank pages"
BOB_SUBJECT = "VPN drops every hour"


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    bob = BOB.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    return {
        "agent": agent,
        "alice_ticket": make_ticket(alice, ALICE_SUBJECT),
        "bob_ticket": make_ticket(bob, BOB_SUBJECT),
    }


def ask_for_chat(client: Page, subject: str) -> None:
    client.get_by_role("link", name=subject).click()
    client.get_by_role("button", name="Join chat").click()
    expect(visible_chat(client)).to_contain_text("Waiting for an agent")


def send(page: Page, text: str) -> None:
    box = visible_chat(page).get_by_label("Message")
    box.fill(text)
    box.press("Enter")


def list_item(agent: Page, subject: str):  # noqa: ANN201
    return agent.locator(".ws-mine-item", has_text=subject)


def test_two_chats_keep_their_drafts_and_scroll(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com", viewport={"width": 1400, "height": 900})
    go_available(agent)
    alice = open_as(new_context, "alice@acme.example")
    bob = open_as(new_context, "bob@acme.example")
    ask_for_chat(alice, ALICE_SUBJECT)
    ask_for_chat(bob, BOB_SUBJECT)
    alice_chat = ChatSession.objects.get(ticket=people["alice_ticket"])
    bob_chat = ChatSession.objects.get(ticket=people["bob_ticket"])

    # Join on the console's home (the session manager) opens the chat in the workspace.
    queue = agent.locator("#session-manager .sm-queue")
    queue.locator(".sm-item", has_text=ALICE_SUBJECT).get_by_role("button", name="Join").click()
    agent.wait_for_url(re.compile(rf"/console/chats/\?chat={alice_chat.pk}$"))
    expect(agent.get_by_role("link", name="Chats")).to_have_attribute("aria-current", "page")
    window = visible_chat(agent)
    expect(window).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    expect(window.get_by_label("Message")).to_be_focused()
    context = agent.get_by_role("region", name="About this chat")
    expect(context).to_contain_text(f"Ticket #{people['alice_ticket'].number}")
    expect(context).to_contain_text(ALICE.full_name)

    # The other request waits in the workspace's queue, its time ticking; Join it there.
    waiting = agent.locator(".ws-queue-item", has_text=BOB_SUBJECT)
    expect(waiting.locator(".ws-wait")).to_have_text(re.compile(r"^\d+:\d\d$"))
    waiting.get_by_role("button", name="Join").click()
    expect(visible_chat(agent)).to_contain_text(BOB_SUBJECT)
    expect(visible_chat(agent).get_by_label("Message")).to_be_focused()
    expect(agent).to_have_url(re.compile(rf"\?chat={bob_chat.pk}$"))
    expect(agent.locator(".ws-mine-item")).to_have_count(2)
    expect(list_item(agent, BOB_SUBJECT).get_by_role("button")).to_have_attribute(
        "aria-current", "true"
    )

    # Alice writes enough to scroll; the agent reads her chat from the top.
    list_item(agent, ALICE_SUBJECT).get_by_role("button").click()
    expect(visible_chat(alice).get_by_label("Message")).to_be_enabled()
    for n in range(1, 16):
        send(alice, f"Line {n} of the printer's error log")
    alice_log = visible_chat(agent).get_by_role("log")
    expect(alice_log).to_contain_text("Line 15 of the printer's error log")
    alice_log.evaluate("log => { log.scrollTop = 0; }")
    visible_chat(agent).get_by_label("Message").fill("Draft for Alice")

    list_item(agent, BOB_SUBJECT).get_by_role("button").click()
    expect(visible_chat(agent)).to_contain_text(BOB_SUBJECT)
    visible_chat(agent).get_by_label("Message").fill("Draft for Bob")
    expect(context).to_contain_text(f"Ticket #{people['bob_ticket'].number}")

    # Alice writes meanwhile: her row says so, with the count of unread messages.
    send(alice, "Are you still there?")
    alice_row = list_item(agent, ALICE_SUBJECT)
    expect(alice_row.locator(".ws-preview")).to_have_text(
        f"{ALICE.first_name}: Are you still there?"
    )
    expect(alice_row.locator(".ws-unread")).to_contain_text("1")
    screenshot(agent, "workspace-1-two-chats")

    alice_row.get_by_role("button").click()
    expect(visible_chat(agent).get_by_label("Message")).to_have_value("Draft for Alice")
    expect(visible_chat(agent).get_by_label("Message")).to_be_focused()
    assert alice_log.evaluate("log => log.scrollTop") == 0
    expect(alice_row.locator(".ws-unread")).to_be_hidden()
    list_item(agent, BOB_SUBJECT).get_by_role("button").click()
    expect(visible_chat(agent).get_by_label("Message")).to_have_value("Draft for Bob")
    assert focused(agent)["chat"] == str(bob_chat.pk)
    # By keyboard the same: Alt+Up / Alt+Down, the focus in the Message box.
    agent.keyboard.press("Alt+ArrowUp")
    expect(visible_chat(agent).get_by_label("Message")).to_have_value("Draft for Alice")
    assert focused(agent) == {"tag": "textarea", "name": "Message", "chat": str(alice_chat.pk)}
    agent.keyboard.press("Alt+ArrowDown")
    assert focused(agent) == {"tag": "textarea", "name": "Message", "chat": str(bob_chat.pk)}

    # A reload keeps the chat on show.
    agent.reload()
    expect(visible_chat(agent)).to_contain_text(BOB_SUBJECT)

    # On the other console pages the chats are docked windows, as before.
    agent.goto(f"/console/tickets/{people['alice_ticket'].pk}/")
    expect(agent.locator("#chat-dock .chat-window")).to_have_count(2)


def test_five_chats_worked_by_keyboard_alone(new_context) -> None:
    agent_user = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    clients = [persona.create() for persona in (ALICE, BOB, CAROL, DAVE)]
    clients.append(client_user(company(ACME), full_name="Erin Walsh", email="erin@acme.example"))
    chats = []
    for n, client in enumerate(clients, start=1):
        ticket = make_ticket(client, f"Problem number {n}")
        request = services.session_request(
            client=client, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk
        )
        chats.append(services.session_join(session_id=request.pk, agent=agent_user))

    agent = open_as(new_context, "agent1@example.com")
    agent.goto("/console/chats/")
    expect(agent.locator(".ws-mine-item")).to_have_count(5)
    agent.keyboard.press("Control+Alt+KeyM")
    assert focused(agent)["name"] == "Message"
    answered = set()
    for _ in range(5):
        agent.keyboard.press("Alt+ArrowDown")
        now = focused(agent)
        assert now["tag"] == "textarea" and now["name"] == "Message"
        agent.keyboard.type(f"On it, chat {now['chat']}")
        agent.keyboard.press("Enter")
        log = visible_chat(agent).get_by_role("log")
        expect(log).to_contain_text(f"On it, chat {now['chat']}")
        expect(log.locator(".chat-line.pending")).to_have_count(0)  # stored, not just sent
        answered.add(int(now["chat"]))
    assert answered == {chat.pk for chat in chats}
    for chat in chats:
        assert chat.messages.filter(author=agent_user, body=f"On it, chat {chat.pk}").count() == 1
    screenshot(agent, "workspace-2-five-chats")
    # On a tablet the context goes under the chat; nothing scrolls sideways.
    agent.set_viewport_size({"width": 768, "height": 1024})
    expect(visible_chat(agent).get_by_label("Message")).to_be_visible()
    assert agent.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(agent, "workspace-3-tablet")
