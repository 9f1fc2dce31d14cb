"""What happens when nobody answers, in the browser (Lifecycle 2, 5, 6, 8, 11):
the client's no-answer choices (callback, note), the outside-hours dialog, the
follow-up cards of the session manager closed with End session, the
supervisor's 30-second warning and the client's End chat after a quiet hour.

The beat does not run in browser tests: each test moves a deadline into the
past in the database and runs the sweep itself. The sweep broadcasts through
the Redis channel layer that daphne listens on (same prefix: both use
config/settings/test.py). It runs in a worker thread because Playwright's sync
API keeps an event loop in this one, where async_to_sync refuses to run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import time, timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from chat import timers
from chat.models import ChatSession, Outcome, SessionStatus
from officehours.models import Schedule, WeeklyInterval
from presence.models import AgentConnection, PresenceStatus
from tests.e2e.helpers import make_ticket, screenshot
from tests.e2e.test_chat_flows import chat_window, go_available, open_as, wait_for
from tests.personas import AGENT1, ALICE, SUPERVISOR
from tickets.models import Ticket, TicketNote

pytestmark = pytest.mark.usefixtures("e2e_db")

SUBJECT = "Printer prints blank pages"


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, SUBJECT)
    return {"alice": alice, "agent": agent, "ticket": ticket}


def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a sweep where async_to_sync may run (see the module docstring)."""

    def run() -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def the_session(ticket: Ticket) -> ChatSession:
    return wait_for(lambda: ChatSession.objects.filter(ticket=ticket).first())  # type: ignore[return-value]


def nobody_answers(session: ChatSession) -> None:
    ChatSession.objects.filter(pk=session.pk).update(
        no_answer_due_at=timezone.now() - timedelta(seconds=1)
    )
    assert in_thread(timers.sweep_no_answer) == 1


def join_chat_on_ticket(client: Page, subject: str = SUBJECT) -> Locator:
    client.get_by_role("link", name=subject).click()
    client.get_by_role("button", name="Join chat").click()
    window = chat_window(client)
    expect(window).to_contain_text("Waiting for an agent")
    return window


def panel_of(window: Locator) -> Locator:
    return window.locator(".chat-panel")


def test_no_answer_then_callback_reaches_the_callbacks_section(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    window = join_chat_on_ticket(client)
    panel = panel_of(window)
    expect(panel).to_be_hidden()

    nobody_answers(the_session(people["ticket"]))
    expect(panel).to_contain_text("Nobody is available yet.")
    for name in ("Keep waiting", "Leave a note", "Request a callback", "End request"):
        expect(panel.get_by_role("button", name=name)).to_be_visible()
    expect(window.get_by_label("Message", exact=True)).to_be_disabled()
    screenshot(client, "followup-1-no-answer")

    panel.get_by_role("button", name="Request a callback").click()
    panel.get_by_label("Phone number").fill("12")
    panel.get_by_label("Message").fill("After 2 pm <b>please</b>")
    panel.get_by_role("button", name="Request callback").click()
    expect(panel.get_by_role("alert")).to_contain_text("not valid")
    screenshot(client, "followup-2-callback-phone-invalid")
    assert ChatSession.objects.get(ticket=people["ticket"]).status == SessionStatus.WAITING

    panel.get_by_label("Phone number").fill("+44 20 7946 0000")
    panel.get_by_role("button", name="Request callback").click()
    expect(panel).to_contain_text("We will call you back on +442079460000")
    expect(window.get_by_label("Message", exact=True)).to_be_disabled()
    screenshot(client, "followup-3-callback-confirmed")

    card = agent.locator("#session-manager .sm-callbacks .sm-card", has_text=SUBJECT)
    expect(card).to_contain_text(f"{ALICE.full_name} · {ALICE.company}")
    expect(card.get_by_role("link", name="+442079460000")).to_have_attribute(
        "href", "tel:+442079460000"
    )
    expect(card.locator(".sm-message")).to_have_text("After 2 pm <b>please</b>")
    expect(card.get_by_role("link", name=f"Ticket #{people['ticket'].pk}")).to_be_visible()
    expect(agent.locator(".toast-request")).to_have_count(0)
    screenshot(agent, "followup-4-callback-card")

    panel.get_by_role("button", name="Leave").click()
    expect(client.locator(".chat-window")).to_have_count(0)


def test_no_answer_then_note_lands_on_the_ticket(new_context, people) -> None:
    client = open_as(new_context, "alice@acme.example")
    window = join_chat_on_ticket(client)
    nobody_answers(the_session(people["ticket"]))
    panel = panel_of(window)
    panel.get_by_role("button", name="Leave a note").click()
    panel.get_by_role("button", name="Send note").click()
    expect(panel.get_by_role("alert")).to_have_text("Write your note first.")

    panel.get_by_label("Note").fill("Blank pages since <script>alert(1)</script> Monday")
    screenshot(client, "followup-5-note-form")
    panel.get_by_role("button", name="Send note").click()
    expect(panel).to_contain_text(f"Your note was added to ticket #{people['ticket'].pk}")
    expect(window).to_contain_text("Request ended")
    expect(window.get_by_label("Message", exact=True)).to_be_disabled()

    # The note is on the ticket, as the client's own.
    client.reload()
    expect(client.locator(".notes")).to_contain_text(
        "Blank pages since <script>alert(1)</script> Monday"
    )
    # The window comes back after the reload; Leave closes it.
    window = chat_window(client)
    expect(panel_of(window)).to_contain_text("This request has ended.")
    panel_of(window).get_by_role("button", name="Leave").click()
    expect(client.locator(".chat-window")).to_have_count(0)
    session = ChatSession.objects.get(ticket=people["ticket"])
    assert session.status == SessionStatus.ABANDONED


def test_outside_office_hours(new_context, people) -> None:
    Schedule.objects.update(is_active=False)
    schedule = Schedule.objects.create(name="Office hours", timezone="UTC", is_active=True)
    # Open one hour, three days from now: closed now, with a next opening to tell.
    opening_day = (timezone.now().weekday() + 3) % 7
    WeeklyInterval.objects.create(
        schedule=schedule, weekday=opening_day, start=time(9), end=time(10)
    )

    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name=SUBJECT).click()
    client.get_by_role("button", name="Join chat").click()
    window = chat_window(client)
    panel = panel_of(window)
    expect(panel).to_contain_text("Support is closed")
    expect(panel).to_contain_text("We open again")
    expect(panel).to_contain_text("09:00 (UTC)")
    expect(panel.get_by_role("button", name="Keep waiting")).to_have_count(0)
    expect(panel.get_by_role("button", name="Request a callback")).to_have_count(0)
    expect(panel.get_by_role("button", name="End request")).to_be_visible()
    expect(window.get_by_label("Message", exact=True)).to_be_disabled()
    screenshot(client, "followup-6-outside-hours")

    # Nobody is paged; the request waits as an abandoned card marked outside hours.
    card = agent.locator("#session-manager .sm-abandoned .sm-card", has_text=SUBJECT)
    expect(card.locator(".sm-badge")).to_have_text("Outside hours")
    expect(agent.locator(".toast-request")).to_have_count(0)
    expect(agent.locator("#session-manager .sm-queue .sm-item")).to_have_count(0)

    panel.get_by_role("button", name="Leave a note").click()
    panel.get_by_label("Note").fill("Printer still broken, call me tomorrow")
    panel.get_by_role("button", name="Send note").click()
    expect(panel).to_contain_text("Your note was added to ticket")
    assert TicketNote.objects.filter(
        ticket=people["ticket"], body="Printer still broken, call me tomorrow"
    ).exists()
    screenshot(client, "followup-7-outside-hours-note")
    panel.get_by_role("button", name="Leave").click()
    expect(client.locator(".chat-window")).to_have_count(0)


def test_pre_ticket_outside_hours_creates_a_ticket(new_context, people) -> None:
    Schedule.objects.update(is_active=False)
    Schedule.objects.create(name="Closed", timezone="UTC", is_active=True)  # never opens
    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("button", name="Start a chat").click()
    client.get_by_label("Subject").fill("New starter needs a laptop")
    client.get_by_role("button", name="Start chat").click()
    panel = panel_of(chat_window(client))
    expect(panel).to_contain_text("Support is closed")
    expect(panel.get_by_role("button", name="Leave a note")).to_have_count(0)
    panel.get_by_role("button", name="Create ticket").click()
    panel.get_by_label("Message").fill("Starts on Monday, needs a laptop and an account")
    panel.get_by_role("button", name="Create ticket").click()
    expect(panel).to_contain_text("was created")
    ticket = Ticket.objects.get(subject="New starter needs a laptop")
    assert ticket.description == "Starts on Monday, needs a laptop and an account"
    expect(chat_window(client).get_by_role("link", name=f"Ticket #{ticket.pk}")).to_be_visible()


def test_abandoned_card_closed_with_end_session(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    join_chat_on_ticket(client)
    session = the_session(people["ticket"])
    nobody_answers(session)
    expect(panel_of(chat_window(client))).to_contain_text("Nobody is available yet.")

    # The client goes away without choosing; once its sockets are gone the
    # request is abandoned.
    client.context.close()
    wait_for(lambda: not AgentConnection.objects.filter(user=people["alice"]).exists())
    assert in_thread(timers.sweep_abandoned, now=timezone.now() + timedelta(minutes=5)) == 1

    card = agent.locator("#session-manager .sm-abandoned .sm-card", has_text=SUBJECT)
    expect(card).to_contain_text(f"{ALICE.full_name} · {ALICE.company}")
    # Requested now, abandoned by a sweep that ran "five minutes later".
    expect(card.locator(".sm-waited")).to_have_text(re.compile(r"waited 5:\d\d"))
    expect(agent.locator("#session-manager .sm-queue .sm-item")).to_have_count(0)
    screenshot(agent, "followup-8-abandoned-card")

    # Push chat is offered only while the client is in the portal, and the card
    # follows the client coming and going without a reload.
    push = card.get_by_role("button", name="Push chat")
    expect(push).to_have_count(0)
    back = open_as(new_context, "alice@acme.example")
    expect(push).to_be_visible()
    back.context.close()
    expect(push).to_have_count(0)

    card.get_by_role("button", name="End session").click()
    dialog = agent.locator("dialog.chat-followup-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="End session").click()
    expect(dialog.get_by_role("alert")).to_have_text("Choose how the request was resolved.")
    dialog.get_by_label("Outcome").select_option(label="Resolved by phone")
    dialog.get_by_label("Note").fill("Called Alice: the toner was empty")
    screenshot(agent, "followup-9-end-session-dialog")
    dialog.get_by_role("button", name="End session").click()
    expect(dialog).to_be_hidden()
    expect(card).to_have_count(0)
    # The last card gone: no Abandoned list left (an idle panel says so in one line).
    expect(agent.locator("#session-manager .sm-abandoned")).to_have_count(0)

    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED
    assert session.outcome == Outcome.RESOLVED_PHONE
    agent.goto(f"/console/tickets/{people['ticket'].pk}/")
    expect(
        agent.get_by_text(f"Follow-up of chat {session.pk} closed: Resolved by phone.")
    ).to_be_visible()
    expect(agent.get_by_text("Called Alice: the toner was empty")).to_be_visible()
    screenshot(agent, "followup-10-ticket-note")


def test_supervisor_warned_and_queue_entry_red(new_context, people) -> None:
    SUPERVISOR.create()
    supervisor = open_as(new_context, SUPERVISOR.email)
    go_available(supervisor)
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    join_chat_on_ticket(client)
    session = the_session(people["ticket"])
    row = agent.locator("#session-manager .sm-queue .sm-item", has_text=SUBJECT)
    expect(row).not_to_have_class("overdue")

    ChatSession.objects.filter(pk=session.pk).update(
        warning_due_at=timezone.now() - timedelta(seconds=1)
    )
    assert in_thread(timers.sweep_queue_warning) == 1
    # The server's warned_at turns it red even though the browser's clock says 0:0x.
    expect(row).to_have_class("sm-item overdue")
    expect(supervisor.locator(".toast-warning")).to_contain_text(
        f"{ALICE.full_name} has waited 30 s"
    )
    expect(agent.locator(".toast-warning")).to_have_count(0)
    screenshot(supervisor, "followup-11-supervisor-warning")


def test_client_may_end_after_inactivity(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    window = join_chat_on_ticket(client)
    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    expect(window.get_by_label("Message", exact=True)).to_be_enabled()
    expect(window.get_by_role("button", name="End chat")).to_have_count(0)

    session = the_session(people["ticket"])
    ChatSession.objects.filter(pk=session.pk).update(
        inactivity_due_at=timezone.now() - timedelta(seconds=1)
    )
    assert in_thread(timers.sweep_inactivity) == 1
    expect(window).to_contain_text(timers.INACTIVE_LINE)
    end = window.get_by_role("button", name="End chat")
    expect(end).to_be_visible()
    screenshot(client, "followup-12-client-end-chat")
    end.click()
    expect(window).to_contain_text("The chat has ended.")
    expect(window.get_by_label("Message", exact=True)).to_be_disabled()
    session.refresh_from_db()
    assert session.status == SessionStatus.ENDED


def test_client_end_chat_refused_is_shown(new_context, people) -> None:
    """A stale browser that offers End chat too early shows the server's refusal."""
    agent = open_as(new_context, "agent1@example.com")
    go_available(agent)
    client = open_as(new_context, "alice@acme.example")
    window = join_chat_on_ticket(client)
    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    expect(window.get_by_label("Message", exact=True)).to_be_enabled()

    # A browser that believes the chat has been quiet long enough (its page
    # says 1 second) while the server says it has not.
    client.add_init_script(
        """new MutationObserver((_, observer) => {
          const dock = document.getElementById("chat-dock");
          if (dock) { dock.dataset.inactivitySeconds = "1"; observer.disconnect(); }
        }).observe(document, { childList: true, subtree: true });"""
    )
    client.reload()
    window = chat_window(client)
    end = window.get_by_role("button", name="End chat")
    expect(end).to_be_visible(timeout=5000)
    end.click()
    expect(window.get_by_role("alert")).to_contain_text("The engineer ends the chat")
    screenshot(client, "followup-13-client-end-refused")
    session = the_session(people["ticket"])
    session.refresh_from_db()
    assert session.status == SessionStatus.ACTIVE
