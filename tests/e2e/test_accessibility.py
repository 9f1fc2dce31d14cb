"""The accessibility audit: axe-core finds no WCAG 2.0 / 2.1 / 2.2 A or AA violation
(label-content-name-mismatch included) on any page of PAGES, and every element the Tab
key reaches there shows a focus ring of at least 3:1 against what is behind it.

Each page is opened as its user would see it, the chat states set through the chat
services first (tests/e2e/scenes.py). A page more is one entry in PAGES: a name and a
function that opens it and waits until it is drawn.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from chat import services
from chat.models import ChatKind, ChatSession, ReachChannel, SessionStatus
from chat.reach_out.services import reach_out
from tests.e2e.accessibility import (
    axe_rules_run,
    axe_violations,
    focus_ring_problems,
    violations_report,
)
from tests.e2e.helpers import make_ticket, screenshot
from tests.e2e.scenes import Helpdesk, chat_window
from tests.personas import AGENT1, ALICE, SUPERVISOR

pytestmark = pytest.mark.usefixtures("e2e_db")


@pytest.fixture
def helpdesk(new_context: Callable[..., BrowserContext]) -> Helpdesk:
    return Helpdesk.create(new_context)


# --- The pages ---------------------------------------------------------------------


def login_page(h: Helpdesk) -> Page:
    page = h.open_as(None, "/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    return page


def portal_home(h: Helpdesk) -> Page:
    page = h.open_as(ALICE.email, "/portal/")
    expect(page.get_by_role("link", name=h.ticket.subject)).to_be_visible()
    return page


def portal_home_written_to(h: Helpdesk) -> Page:
    """The home with "The helpdesk wrote to you": an agent messaged Alice by email
    about a chat that closed without a ticket (Message customer)."""
    earlier = services.session_request(client=h.alice, kind=ChatKind.PRE_TICKET, subject="VPN")
    services.session_join(session_id=earlier.pk, agent=h.agent)
    services.session_end(session_id=earlier.pk, agent=h.agent, outcome="close", reason="fixed")
    reach_out(
        agent=h.agent,
        channel=ReachChannel.EMAIL,
        client_id=uuid.uuid4(),
        session_id=earlier.pk,
        body="Is the VPN steady now?",
    )
    page = h.open_as(ALICE.email, "/portal/")
    written = page.get_by_role("region", name="The helpdesk wrote to you")
    expect(written.get_by_role("button", name="Join chat")).to_be_visible()
    return page


def portal_ticket(h: Helpdesk) -> Page:
    page = h.open_as(ALICE.email, f"/portal/tickets/{h.ticket.pk}/")
    expect(page.get_by_role("button", name="Join chat")).to_be_enabled()
    return page


def portal_ticket_waiting(h: Helpdesk) -> Page:
    h.alice_requests()
    page = h.open_as(ALICE.email, f"/portal/tickets/{h.ticket.pk}/")
    expect(chat_window(page)).to_contain_text("Waiting for an agent")
    return page


def portal_ticket_active(h: Helpdesk) -> Page:
    h.alice_chats()
    page = h.open_as(ALICE.email, f"/portal/tickets/{h.ticket.pk}/")
    expect(chat_window(page)).to_contain_text("Have you tried a new toner cartridge?")
    expect(chat_window(page).get_by_label("Message")).to_be_enabled()
    return page


def portal_chat_on_a_phone(h: Helpdesk) -> Page:
    """The active chat as a full-screen sheet (tests/e2e/test_phone_layout.py)."""
    h.alice_chats()
    page = h.open_as(
        ALICE.email, f"/portal/tickets/{h.ticket.pk}/", viewport={"width": 390, "height": 844}
    )
    expect(chat_window(page).get_by_label("Message")).to_be_enabled()
    return page


def portal_ticket_ended(h: Helpdesk) -> Page:
    h.alice_chatted()
    page = h.open_as(ALICE.email, f"/portal/tickets/{h.ticket.pk}/")
    expect(chat_window(page)).to_contain_text("The chat has ended.")
    return page


def console_home(h: Helpdesk) -> Page:
    """The ticket list, with a request waiting and the agent's own chat docked."""
    h.alice_chats()
    h.bob_waits()
    page = h.open_as(AGENT1.email, "/console/")
    expect(page.locator("#session-manager .sm-queue")).to_contain_text("Cannot reach the VPN")
    expect(chat_window(page)).to_contain_text("Have you tried a new toner cartridge?")
    return page


def console_ticket(h: Helpdesk) -> Page:
    """A ticket page with the chat on it docked."""
    h.alice_chats()
    page = h.open_as(AGENT1.email, f"/console/tickets/{h.ticket.pk}/")
    expect(page.get_by_role("heading", name=h.ticket.subject, exact=True)).to_be_visible()
    expect(chat_window(page)).to_contain_text("The printer prints blank pages")
    return page


def workspace(h: Helpdesk) -> Page:
    """The agent workspace with an active chat selected and a request waiting."""
    session = h.alice_chats()
    h.bob_waits()
    page = h.open_as(AGENT1.email, f"/console/chats/?chat={session.pk}")
    expect(chat_window(page)).to_contain_text("Have you tried a new toner cartridge?")
    expect(page.locator("#ws-context-title")).to_be_visible()
    return page


def supervisor_chats(h: Helpdesk) -> Page:
    h.alice_chats()
    h.bob_waits()
    page = h.open_as(SUPERVISOR.email, "/console/supervisor/")
    expect(page.locator("#sv-connection")).to_have_text("Live")
    expect(page.locator(".sv-agent", has_text=AGENT1.full_name)).to_contain_text(h.ticket.subject)
    expect(page.locator("[data-sv-waiting]")).to_contain_text("Cannot reach the VPN")
    return page


def supervisor_watch(h: Helpdesk) -> Page:
    page = supervisor_chats(h)
    card = page.locator(".sv-agent", has_text=AGENT1.full_name)
    card.get_by_role("button", name="Watch chat: #").click()
    expect(page.locator("#sv-watch")).to_contain_text("Have you tried a new toner cartridge?")
    return page


def supervisor_closed(h: Helpdesk) -> Page:
    h.alice_chatted()
    page = h.open_as(SUPERVISOR.email, "/console/supervisor/?tab=closed")
    expect(page.locator("tr", has_text=h.ticket.subject)).to_contain_text(AGENT1.full_name)
    return page


def supervisor_tickets(h: Helpdesk) -> Page:
    """A request nobody answered (with its ticket) and a callback."""
    now = timezone.now()
    common = {"contact": h.alice.contact, "client": h.alice, "requested_at": now}
    ChatSession.objects.create(
        kind=ChatKind.POST_TICKET,
        status=SessionStatus.ABANDONED,
        ticket=make_ticket(h.alice, "Email bounces at night"),
        outside_hours=True,
        ended_at=now,
        last_activity_at=now,
        **common,
    )
    ChatSession.objects.create(
        kind=ChatKind.PRE_TICKET,
        status=SessionStatus.CALLBACK,
        subject="Call me about the VPN",
        callback_phone="+44 20 7946 0011",
        ended_at=now,
        last_activity_at=now,
        **common,
    )
    page = h.open_as(SUPERVISOR.email, "/console/supervisor/?tab=tickets")
    expect(page.locator("tr", has_text="Email bounces at night")).to_be_visible()
    return page


def your_settings(h: Helpdesk) -> Page:
    page = h.open_as(ALICE.email, "/accounts/settings/")
    expect(page.get_by_label("Time zone")).to_be_visible()
    return page


def admin_login(h: Helpdesk) -> Page:
    page = h.open_as(None, "/admin/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    return page


PAGES: dict[str, Callable[[Helpdesk], Page]] = {
    "login": login_page,
    "portal-home": portal_home,
    "portal-home-written-to": portal_home_written_to,
    "portal-ticket": portal_ticket,
    "portal-ticket-waiting": portal_ticket_waiting,
    "portal-ticket-active": portal_ticket_active,
    "portal-ticket-ended": portal_ticket_ended,
    "portal-chat-on-a-phone": portal_chat_on_a_phone,
    "console-home": console_home,
    "console-ticket": console_ticket,
    "workspace": workspace,
    "supervisor-chats": supervisor_chats,
    "supervisor-watch": supervisor_watch,
    "supervisor-closed": supervisor_closed,
    "supervisor-tickets": supervisor_tickets,
    "your-settings": your_settings,
    "admin-login": admin_login,
}


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_axe_violations(name: str, helpdesk: Helpdesk) -> None:
    page = PAGES[name](helpdesk)
    screenshot(page, f"a11y-{name}")
    violations = axe_violations(page)
    assert not violations, f"axe on {name} ({page.url}):\n{violations_report(violations)}"


@pytest.mark.parametrize("name", PAGES)
def test_every_focus_stop_has_a_visible_ring(name: str, helpdesk: Helpdesk) -> None:
    page = PAGES[name](helpdesk)
    problems = focus_ring_problems(page)
    assert not problems, f"focus rings on {name} ({page.url}):\n" + "\n".join(problems)


def test_the_audit_runs_every_wcag_rule_and_label_in_name(page: Page) -> None:
    """The options switch the experimental WCAG 2.5.3 rule on, and a page that breaks
    it (and colour contrast) is reported by the audit, rule by rule."""
    page.set_content(
        "<!doctype html><html lang='en'><head><title>Audit</title></head><body><main>"
        "<h1>Audit</h1>"
        "<button aria-label='Send'>Submit</button>"
        "<p style='color:#aaa;background:#fff'>Faint text</p>"
        "</main></body></html>"
    )
    assert {"label-content-name-mismatch", "color-contrast", "target-size"} <= axe_rules_run(page)
    report = violations_report(axe_violations(page))
    assert "label-content-name-mismatch" in report
    assert "color-contrast" in report
    assert "button" in report


def test_a_message_tick_is_read_out_by_what_it_means(helpdesk: Helpdesk) -> None:
    """A tick is an image named "Delivered" or "Read <when>": a screen reader skips the
    name of a plain span (axe only asks for a review of that)."""
    page = portal_ticket_active(helpdesk)
    own_message = chat_window(page).locator(".chat-line", has_text="prints blank pages")
    expect(own_message.get_by_role("img", name="Delivered")).to_have_count(1)
