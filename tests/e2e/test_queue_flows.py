"""Queues in the console: a request shows, and pages, only in the consoles of
its queue's members (and supervisors); an agent an administrator adds to the
queue sees it at once, without reloading."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chat.models import ChatQueue
from presence.models import PresenceStatus
from tests.e2e.helpers import make_ticket
from tests.e2e.test_chat_flows import chat_window, go_available, open_as
from tests.e2e.test_followup_flows import in_thread
from tests.personas import AGENT1, AGENT2, ALICE

pytestmark = pytest.mark.usefixtures("e2e_db")

SUBJECT = "Printer prints blank pages"


def test_a_request_shows_only_in_its_queues_consoles(new_context) -> None:
    alice = ALICE.create()
    member = AGENT1.create(presence=PresenceStatus.OFFLINE)
    outsider = AGENT2.create(presence=PresenceStatus.OFFLINE)
    make_ticket(alice, SUBJECT)
    acme_desk = ChatQueue.objects.create(name="Acme desk")
    acme_desk.companies.add(alice.contact.company)
    acme_desk.members.add(member)

    agent1 = open_as(new_context, "agent1@example.com")
    agent2 = open_as(new_context, "agent2@example.com")
    for agent in (agent1, agent2):
        go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name=SUBJECT).click()
    client.get_by_role("button", name="Join chat").click()
    expect(chat_window(client)).to_contain_text("Waiting for an agent")

    expect(agent1.locator(".toast-request")).to_contain_text(ALICE.full_name)
    expect(agent1.locator("#session-manager .sm-queue")).to_contain_text(SUBJECT)
    # agent2 is in no queue of Acme's: nothing listed, nothing offered.
    expect(agent2.locator("#session-manager")).to_contain_text("Nobody is waiting.")
    expect(agent2.locator("#session-manager .sm-queue")).to_have_count(0)  # the idle panel
    expect(agent2.locator(".toast-request")).to_have_count(0)

    # An administrator adds agent2 to the queue (a signal, as in Django admin).
    in_thread(acme_desk.members.add, outsider)
    queue_row = agent2.locator("#session-manager .sm-queue .sm-item")
    expect(queue_row).to_contain_text(SUBJECT)
    queue_row.get_by_role("button", name="Join").click()
    expect(chat_window(agent2)).to_contain_text(f"{AGENT2.full_name} joined the chat.")
