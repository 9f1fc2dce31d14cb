"""Message customer, as people click through it: a closed WhatsApp chat
reached out to by template from the supervisor's Closed tab (the fake Cloud
API, the session's pytest-httpserver, receives the template call, and the new
chat is open in the console, where the closed window offers Send template…),
a portal client reached by email from a ticket's Chat history, who opens
the link, presses Join chat and answers in that chat, and a portal client
whose chat closed without a ticket, reached by email with two messages (the
second in a later email), who joins from the portal's home."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
import requests
from django.core import mail
from django.utils import timezone
from playwright.sync_api import BrowserContext, Locator, Page, expect
from pytest_httpserver import HTTPServer
from werkzeug import Response

from chat import services
from chat.models import ChatKind, ChatSession, Message, PhoneClient, WhatsAppTemplate
from chat.reach_out.emails import sweep_reach_out_emails
from presence.models import PresenceStatus
from tests.e2e.conftest import E2E_WHATSAPP
from tests.e2e.helpers import login, make_ticket, screenshot, sent_mail
from tests.e2e.test_chat_flows import open_as, wait_for
from tests.e2e.test_followup_flows import in_thread
from tests.factories import PASSWORD
from tests.personas import AGENT1, ALICE, SUPERVISOR

pytestmark = pytest.mark.usefixtures("e2e_db")

PHONE_ID = E2E_WHATSAPP["SWITCHBOARD_WHATSAPP_PHONE_NUMBER_ID"]
SECRET = E2E_WHATSAPP["SWITCHBOARD_WHATSAPP_APP_SECRET"]
MESSAGES_PATH = f"/graph/{PHONE_ID}/messages"


def post_whatsapp(live_server_url: str, text: str, message_id: str) -> None:
    """Jane Doe writes on WhatsApp: Meta's webhook, signed as Meta signs it."""
    value = {
        "messaging_product": "whatsapp",
        "contacts": [{"profile": {"name": "Jane Doe"}, "wa_id": "447700900123"}],
        "messages": [
            {
                "from": "447700900123",
                "id": message_id,
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "W", "changes": [{"value": value}]}],
        }
    ).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = requests.post(
        f"{live_server_url}/channels/whatsapp/",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        timeout=10,
    )
    assert answer.status_code == 200


def cloud_api(httpserver: HTTPServer) -> Callable[[], list[Any]]:
    """The fake Cloud API: every send answered with a fresh id; returns what it got."""
    ids = count(1)
    httpserver.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(
        lambda request: Response(
            json.dumps({"messages": [{"id": f"wamid.e2e{next(ids)}"}]}),
            content_type="application/json",
        )
    )
    return lambda: [request.json for request, _ in httpserver.log if request.path == MESSAGES_PATH]


def console_ready(page: Page) -> None:
    """The console's scripts run and its socket answered (the session manager is drawn)."""
    expect(page.locator("#session-manager .sm-connecting")).to_have_count(0)


def focus_is_in(page: Page, dialog: Locator) -> bool:
    return bool(dialog.evaluate("(node) => node.contains(document.activeElement)"))


def test_a_closed_whatsapp_chat_reached_out_to_by_template(
    new_context: Callable[..., BrowserContext], live_server_url: str, httpserver: HTTPServer
) -> None:
    SUPERVISOR.create(presence=PresenceStatus.OFFLINE)
    agent = AGENT1.create(presence=PresenceStatus.AVAILABLE)
    WhatsAppTemplate.objects.create(
        name="ticket_follow_up",
        body="Hello {{1}}, this is {{2}} from the helpdesk. Reply here to continue.",
        approved=True,
    )
    WhatsAppTemplate.objects.create(
        name="helpdesk_callback", body="Hello {{1}}, we tried to reach you.", approved=True
    )
    sent = cloud_api(httpserver)
    # Jane wrote on WhatsApp; agent1 answered and closed the chat; that was
    # two days ago, so her 24-hour window has closed.
    post_whatsapp(live_server_url, "My VPN is down", "wamid.in1")
    closed = ChatSession.objects.get()
    services.session_join(session_id=closed.pk, agent=agent)
    services.session_end(session_id=closed.pk, agent=agent, outcome="close", reason="fixed")
    PhoneClient.objects.update(whatsapp_received_at=timezone.now() - timedelta(days=2))

    page = open_as(new_context, SUPERVISOR.email)
    page.goto("/console/supervisor/?tab=closed")
    console_ready(page)
    opener = page.locator(f'tr[data-session-id="{closed.pk}"]').get_by_role(
        "button", name="Message customer"
    )
    opener.click()
    dialog = page.get_by_role("dialog", name="Message customer")
    expect(dialog).to_contain_text("To Jane Doe")
    whatsapp = dialog.get_by_role("radio", name=re.compile("WhatsApp"))
    expect(whatsapp).to_be_checked()  # the channel of her last chat, first
    expect(dialog.get_by_role("radio", name=re.compile("Email"))).to_be_disabled()
    expect(dialog).to_contain_text("The 24-hour window has closed: send an approved template")
    expect(dialog.get_by_label("Message", exact=True)).to_be_hidden()
    screenshot(page, "reach-1-whatsapp-template-dialog")

    # The keyboard stays in the dialog; Escape closes it and focus returns.
    for _ in range(10):
        page.keyboard.press("Tab")
        assert focus_is_in(page, dialog)
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        assert focus_is_in(page, dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert sent() == []

    opener.click()
    dialog.get_by_label("Template").select_option(label="ticket_follow_up (en_US)")
    dialog.get_by_label("Value for {{1}}").fill("Jane")
    dialog.get_by_label("Value for {{2}}").fill("Sam")
    preview = "Hello Jane, this is Sam from the helpdesk. Reply here to continue."
    expect(dialog).to_contain_text(preview)
    dialog.get_by_role("button", name="Send").click()
    expect(dialog).to_be_hidden()

    # The fake Cloud API got the template, once.
    (call,) = wait_for(sent)
    assert call == {
        "messaging_product": "whatsapp",
        "to": "447700900123",
        "type": "template",
        "template": {
            "name": "ticket_follow_up",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Jane"},
                        {"type": "text", "text": "Sam"},
                    ],
                }
            ],
        },
    }
    # The new chat is open in the console, with the supervisor in it.
    window = page.locator(".chat-window", has_text=preview)
    expect(window.locator(".chat-heading .channel-badge")).to_have_text("WhatsApp")
    expect(window.locator(".chat-status")).to_have_text("Chatting")
    expect(window.locator(".chat-line.mine .chat-tick").last).to_have_attribute(
        "data-delivery", "sent"
    )
    new_chat = ChatSession.objects.exclude(pk=closed.pk).get()
    assert new_chat.participants.filter(user__email=SUPERVISOR.email, left_at=None).exists()

    # Still outside the window: the chat window offers a template, not free text.
    expect(window.get_by_label("Message", exact=True)).to_be_disabled()
    expect(window).to_contain_text("The 24-hour window has closed: send an approved template")
    screenshot(page, "reach-2-whatsapp-chat-open")
    template_button = window.get_by_role("button", name="Send template…")
    template_button.click()
    send_dialog = page.get_by_role("dialog", name="Send a WhatsApp template")
    send_dialog.get_by_label("Template").select_option(label="helpdesk_callback (en_US)")
    send_dialog.get_by_label("Value for {{1}}").fill("Jane")
    send_dialog.get_by_role("button", name="Send template").click()
    expect(send_dialog).to_be_hidden()
    expect(template_button).to_be_focused()
    expect(window).to_contain_text("Hello Jane, we tried to reach you.")
    assert wait_for(lambda: len(sent()) == 2 and sent())[1]["template"]["name"] == (
        "helpdesk_callback"
    )

    # Jane answers on WhatsApp: into this chat, and free text is open again.
    post_whatsapp(live_server_url, "Hi, yes it works now", "wamid.in2")
    expect(window).to_contain_text("Hi, yes it works now")
    expect(window.get_by_label("Message", exact=True)).to_be_enabled()


def test_a_portal_client_reached_by_email_answers_in_the_portal(
    new_context: Callable[..., BrowserContext], live_server_url: str
) -> None:
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    ticket = make_ticket(alice, "Printer prints blank pages")
    earlier = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    services.session_join(session_id=earlier.pk, agent=agent)
    services.session_end(session_id=earlier.pk, agent=agent)

    page = open_as(new_context, AGENT1.email)
    page.goto(f"/console/tickets/{ticket.pk}/?tab=chats")
    console_ready(page)
    page.locator(f"#chat-{earlier.pk}").get_by_role("button", name="Message customer").click()
    dialog = page.get_by_role("dialog", name="Message customer")
    email = dialog.get_by_role("radio", name=re.compile("Email"))
    expect(email).to_be_checked()  # she last chatted in the portal
    expect(dialog).to_contain_text(alice.email)
    dialog.get_by_label("Message", exact=True).fill("Hi Alice, did the new toner help?")
    screenshot(page, "reach-3-email-dialog")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog).to_be_hidden()
    window = page.locator(".chat-window", has_text="did the new toner help?")
    expect(window).to_contain_text(f"by email ({alice.email}) with a link to ticket #{ticket.pk}")

    # The email, as daphne sent it, with the link to the ticket in the portal.
    mail = wait_for(lambda: [m for m in sent_mail() if m["To"] == alice.email])[-1]
    assert AGENT1.full_name in mail["Subject"]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Hi Alice, did the new toner help?" in text
    link = re.search(r"http://\S+/portal/tickets/\d+/", text)
    assert link and link.group(0) == f"{live_server_url}/portal/tickets/{ticket.pk}/"

    # Alice follows the link, logs in, presses Join chat and answers.
    client = new_context().new_page()
    client.set_default_timeout(10_000)
    client.goto(link.group(0))
    login_from_redirect(client, alice.email)
    client.wait_for_url(f"**/portal/tickets/{ticket.pk}/")
    client.get_by_role("button", name="Join chat").click()
    # (The earlier chat, over, may still be docked: she never pressed its Leave.)
    client_window = client.locator(".chat-window", has_text="did the new toner help?")
    expect(client_window).to_contain_text("Hi Alice, did the new toner help?")
    client_window.get_by_label("Message").fill("Yes, it prints again")
    client_window.get_by_label("Message").press("Enter")
    expect(window).to_contain_text(f"{ALICE.full_name} joined the chat.")
    expect(window).to_contain_text("Yes, it prints again")
    screenshot(client, "reach-4-client-answers-in-portal")


def test_a_portal_client_of_a_chat_closed_without_a_ticket_reached_by_email(
    new_context: Callable[..., BrowserContext], live_server_url: str
) -> None:
    alice = ALICE.create()
    agent = AGENT1.create(presence=PresenceStatus.OFFLINE)
    SUPERVISOR.create(presence=PresenceStatus.OFFLINE)
    earlier = services.session_request(
        client=alice, kind=ChatKind.PRE_TICKET, subject="VPN drops every hour"
    )
    services.session_join(session_id=earlier.pk, agent=agent)
    services.session_end(session_id=earlier.pk, agent=agent, outcome="close", reason="fixed")

    page = open_as(new_context, SUPERVISOR.email)
    page.goto("/console/supervisor/?tab=closed")
    console_ready(page)
    page.locator(f'tr[data-session-id="{earlier.pk}"]').get_by_role(
        "button", name="Message customer"
    ).click()
    dialog = page.get_by_role("dialog", name="Message customer")
    expect(dialog.get_by_role("radio", name=re.compile("Email"))).to_be_checked()
    dialog.get_by_label("Message", exact=True).fill("Hi Alice, is the VPN steady now?")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog).to_be_hidden()
    window = page.locator(".chat-window", has_text="is the VPN steady now?")
    expect(window).to_contain_text(f"by email ({alice.email}) with a link to the portal.")
    # A second message before she has answered.
    window.get_by_label("Message", exact=True).fill("Also: which laptop are you on?")
    window.get_by_label("Message", exact=True).press("Enter")
    wait_for(lambda: Message.objects.filter(body="Also: which laptop are you on?").exists())

    # The first email, as daphne sent it: the message and the portal's home.
    first = wait_for(lambda: [m for m in sent_mail() if m["To"] == alice.email])[-1]
    first_text = first.get_body(preferencelist=("plain",)).get_content()
    assert "Hi Alice, is the VPN steady now?" in first_text
    assert "which laptop" not in first_text
    home = f"{live_server_url}/portal/"
    assert re.search(r"http://\S+/portal/\s", first_text).group(0).strip() == home  # type: ignore[union-attr]
    # A minute later the beat's sweep emails the second one (here: in this process).
    assert in_thread(sweep_reach_out_emails, now=timezone.now() + timedelta(seconds=61)) == 1
    # (This process's outbox also has the earlier chat's transcript.)
    (second,) = [m for m in mail.outbox if m.subject.endswith("wrote again: VPN drops every hour")]
    assert "Also: which laptop are you on?" in second.body
    assert "is the VPN steady now?" not in second.body and home in second.body

    # Alice follows the link: her portal home lists the chat; she joins and answers.
    client = new_context().new_page()
    client.set_default_timeout(10_000)
    client.goto(home)
    login_from_redirect(client, alice.email)
    client.wait_for_url("**/portal/")
    waiting = client.get_by_role("region", name="The helpdesk wrote to you")
    expect(waiting).to_contain_text(f"{SUPERVISOR.full_name} wants to chat about")
    screenshot(client, "reach-5-portal-home-join-chat")
    waiting.get_by_role("button", name="Join chat").click()
    expect(waiting).to_have_count(0)
    client_window = client.locator(".chat-window", has_text="is the VPN steady now?")
    expect(client_window).to_contain_text("Also: which laptop are you on?")
    client_window.get_by_label("Message").fill("The old ThinkPad")
    client_window.get_by_label("Message").press("Enter")
    expect(window).to_contain_text(f"{ALICE.full_name} joined the chat.")
    expect(window).to_contain_text("The old ThinkPad")
    screenshot(client, "reach-6-client-joined-from-home")
    reached = ChatSession.objects.exclude(pk=earlier.pk).get()
    assert reached.ticket_id is None
    assert list(reached.messages.filter(kind="text").values_list("body", flat=True)) == [
        "Hi Alice, is the VPN steady now?",
        "Also: which laptop are you on?",
        "The old ThinkPad",
    ]
    # She is in the chat: nothing more is emailed.
    assert in_thread(sweep_reach_out_emails, now=timezone.now() + timedelta(minutes=5)) == 0


def login_from_redirect(page: Page, email: str) -> None:
    """The login page a logged-out link leads to, filled in as a person does."""
    if "/accounts/login/" not in page.url:
        login(page, email)
        return
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
