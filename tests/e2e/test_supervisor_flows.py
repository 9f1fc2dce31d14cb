"""The supervisor console in a browser: live numbers, the chat under its agent,
watching it live, and a comment with an @mention that the agent sees and the
client never does. Three browser contexts: client, agent, supervisor."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from chat.models import ChatComment, Message, Participant
from presence.models import PresenceStatus
from tests.e2e.helpers import login, make_ticket, screenshot
from tests.personas import AGENT1, ALICE, SUPERVISOR

# Join opens the chat in the agent workspace.
WORKSPACE = re.compile(r"/console/chats/\?chat=\d+$")

pytestmark = pytest.mark.usefixtures("e2e_db")


@pytest.fixture
def people() -> dict:
    alice = ALICE.create()
    priya = AGENT1.create(presence=PresenceStatus.OFFLINE)
    supervisor = SUPERVISOR.create()
    ticket = make_ticket(alice, "Printer prints blank pages")
    return {"alice": alice, "priya": priya, "supervisor": supervisor, "ticket": ticket}


def open_as(new_context: Callable[..., BrowserContext], email: str, **kwargs: object) -> Page:
    page = new_context(**kwargs).new_page()
    page.set_default_timeout(10_000)
    login(page, email)
    return page


def send(page: Page, text: str) -> None:
    box = page.locator(".chat-window").last.get_by_label("Message")
    box.fill(text)
    box.press("Enter")


def number(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-number="{name}"] [data-value]')


def sent_types(page: Page) -> list[str]:
    """The types of the frames this page's sockets send from now on (a list that grows)."""
    types: list[str] = []

    def on_frame(payload: str | bytes) -> None:
        if isinstance(payload, str) and payload.startswith("{"):
            types.append(json.loads(payload).get("type", ""))

    page.on("websocket", lambda ws: ws.on("framesent", on_frame))
    return types


def test_supervisor_watches_and_comments(new_context, people, base_url) -> None:
    supervisor = open_as(new_context, "supervisor@example.com")
    supervisor_frames = sent_types(supervisor)
    supervisor.get_by_role("link", name="Supervisor").click()
    supervisor.wait_for_url("**/console/supervisor/")
    expect(supervisor.locator("#sv-connection")).to_have_text("Live")
    expect(number(supervisor, "waiting")).to_have_text("0")

    agent = open_as(
        new_context,
        "agent1@example.com",
        permissions=["notifications"],
    )
    available = agent.get_by_role("button", name="Available")
    expect(available).to_be_enabled()
    available.click()
    expect(available).to_have_attribute("aria-pressed", "true")
    # presence.changed reaches the supervisor's socket: the number follows.
    expect(number(supervisor, "available")).to_have_text("1")

    client = open_as(new_context, "alice@acme.example")
    client.get_by_role("link", name="Printer prints blank pages").click()
    client.get_by_role("button", name="Join chat").click()
    client_window = client.locator(".chat-window").last
    expect(client_window).to_contain_text("Waiting for an agent")

    # The request shows live: waiting 1, in the queue, the longest wait ticking.
    expect(number(supervisor, "waiting")).to_have_text("1")
    queue = supervisor.locator(".sv-queue")
    expect(queue).to_contain_text("Printer prints blank pages")
    expect(number(supervisor, "longest")).to_have_text(re.compile(r"^0:(0[1-9]|[1-5]\d)$"))
    screenshot(supervisor, "supervisor-1-waiting")

    agent.locator(".toast-request").get_by_role("button", name="Join").click()
    agent.wait_for_url(WORKSPACE)
    agent_window = agent.locator(".chat-window").last
    expect(agent_window).to_contain_text(f"{AGENT1.full_name} joined the chat.")

    # The chat moves under its agent; the queue empties.
    expect(number(supervisor, "waiting")).to_have_text("0")
    card = supervisor.locator(".sv-agent", has_text=AGENT1.full_name)
    expect(card).to_contain_text("Printer prints blank pages")
    expect(card.locator(".sv-agent-count")).to_have_text("1")
    expect(number(supervisor, "per-agent")).to_have_text("1.0")

    send(client, "It prints blank pages since this morning")
    expect(agent_window).to_contain_text("since this morning")

    card.get_by_role("button", name="Watch chat: #").click()
    watch = supervisor.locator("#sv-watch")
    expect(watch).to_be_visible()
    expect(watch).to_contain_text("since this morning")  # the history
    expect(watch).to_contain_text(
        f"In the room: {ALICE.full_name} (client), {AGENT1.full_name} (agent)"
    )
    # Where alice asked from, as the agent sees it (staff only), then live.
    ticket_path = f"/portal/tickets/{people['ticket'].pk}/"
    expect(watch.locator(".sv-line.page-view").first).to_contain_text(
        f"{ALICE.full_name} viewed {ticket_path} — "
    )
    client.goto("/portal/")
    client_window = client.locator(".chat-window").last
    expect(client_window).to_contain_text(f"{AGENT1.full_name} joined the chat.")
    home_view = watch.locator(".sv-line.page-view", has_text=re.compile(r"viewed /portal/(?!t)"))
    expect(home_view).to_have_count(1)
    # A page view's time is one piece ("03:39"), never broken over two lines
    # beside the long line of the page.
    first_view = watch.locator(".sv-line.page-view").first
    expect(first_view.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    text_lines = first_view.locator("time").evaluate(
        "(time) => { const range = document.createRange(); range.selectNodeContents(time);"
        " return range.getClientRects().length; }"
    )
    assert text_lines == 1

    # Live while watching, without taking part.
    send(agent, "Have you tried a new toner cartridge?")
    expect(watch).to_contain_text("Have you tried a new toner cartridge?")
    send(client, "Not yet, <b>will do</b>")
    expect(watch).to_contain_text("Not yet, <b>will do</b>")
    assert not Participant.objects.filter(user=people["supervisor"]).exists()

    watch.get_by_label("Internal comment (agents only, never the client)").fill(
        f"@{AGENT1.first_name} check the toner <img src=x onerror=alert(1)>"
    )
    watch.get_by_role("button", name="Comment").click()
    expect(watch.locator(".sv-line.comment")).to_contain_text(
        f"@{AGENT1.first_name} check the toner"
    )
    expect(watch.locator(".sv-line.comment")).to_contain_text(f"Notified: {AGENT1.full_name}")
    screenshot(supervisor, "supervisor-2-watching")

    # The agent: a toast for the mention, and the comment in the chat window,
    # styled as internal.
    toast = agent.locator(".toast-mention")
    expect(toast).to_contain_text(f"{SUPERVISOR.full_name} mentioned you")
    expect(toast).to_contain_text(f"@{AGENT1.first_name} check the toner")
    comment_line = agent_window.locator(".chat-line.comment")
    expect(comment_line).to_contain_text(
        f"@{AGENT1.first_name} check the toner <img src=x onerror=alert(1)>"
    )
    expect(comment_line.locator(".tag-internal")).to_have_text("Internal")
    assert agent_window.locator(".chat-line.comment img").count() == 0
    screenshot(agent, "supervisor-3-agent-sees-comment")

    # The agent answers with a comment of its own; the supervisor sees it live.
    agent_window.locator("summary", has_text="Internal comment").click()
    agent_window.get_by_role("textbox", name="Internal comment").fill(
        "@supervisor done, it was the toner"
    )
    agent_window.get_by_role("button", name="Add comment").click()
    expect(watch).to_contain_text("done, it was the toner")
    expect(supervisor.locator(".toast-mention")).to_contain_text(
        f"{AGENT1.full_name} mentioned you"
    )

    # The client never sees a comment, live or after a reload.
    send(agent, "Please let me know how it goes.")
    expect(client_window).to_contain_text("Please let me know how it goes.")
    expect(client.locator("body")).not_to_contain_text("check the toner")
    expect(client.locator("body")).not_to_contain_text("done, it was the toner")
    client.reload()
    expect(client.locator(".chat-window").last).to_contain_text("Please let me know how it goes.")
    expect(client.locator("body")).not_to_contain_text("check the toner")
    screenshot(client, "supervisor-4-client-never-sees-comments")
    assert ChatComment.objects.count() == 2
    # Both comment boxes (watch panel, chat window) sent an id a resend would reuse.
    assert not ChatComment.objects.filter(client_id__isnull=True).exists()

    # Read-only: the watch synced with chat.watch, and sent nothing into the chat.
    assert "chat.watch" in supervisor_frames
    assert not {"chat.open", "chat.send", "chat.read", "chat.typing"} & set(supervisor_frames)

    # Stop watching: the panel closes and new messages no longer arrive.
    watch.get_by_role("button", name="Stop watching").click()
    expect(watch).to_be_hidden()
    send(client, "One more line after the supervisor left")
    expect(agent_window).to_contain_text("after the supervisor left")
    expect(supervisor.locator("body")).not_to_contain_text("after the supervisor left")


def test_agent_is_refused_the_console(new_context, people) -> None:
    agent = open_as(new_context, "agent1@example.com")
    expect(agent.get_by_role("link", name="Supervisor")).to_have_count(0)
    response = agent.goto("/console/supervisor/")
    assert response is not None and response.status == 403


def test_closed_and_tickets_tabs(new_context, people) -> None:
    from django.utils import timezone

    from chat.models import ChatKind, ChatSession, SessionStatus
    from tickets.models import Ticket, TicketStatus

    alice, priya, ticket = people["alice"], people["priya"], people["ticket"]
    now = timezone.now()
    common = {
        "contact": alice.contact,
        "client": alice,
        "requested_at": now,
        "last_activity_at": now,
    }
    ended = ChatSession.objects.create(
        kind=ChatKind.POST_TICKET,
        status=SessionStatus.ENDED,
        ticket=ticket,
        answered_at=now,
        ended_at=now,
        ended_by=priya,
        **common,
    )
    Participant.objects.create(session=ended, user=priya, role="agent", joined_at=now)
    Message.objects.create(
        session=ended, seq=1, author=alice, body="The printer is **fine** now", created_at=now
    )
    comment = ChatComment.objects.create(
        session=ended,
        author=people["supervisor"],
        body=f"@{AGENT1.first_name} Ask about the toner",
        created_at=now,
    )
    comment.mentions.add(priya)
    after_hours = make_ticket(alice, "Email bounces at night")
    ChatSession.objects.create(
        kind=ChatKind.POST_TICKET,
        status=SessionStatus.ABANDONED,
        ticket=after_hours,
        outside_hours=True,
        ended_at=now,
        **common,
    )
    ChatSession.objects.create(
        kind=ChatKind.PRE_TICKET,
        status=SessionStatus.CALLBACK,
        subject="Call me about the VPN",
        callback_phone="+44 20 7946 0011",
        ended_at=now,
        **common,
    )

    supervisor = open_as(new_context, "supervisor@example.com")
    supervisor.goto("/console/supervisor/?tab=closed")
    row = supervisor.locator("tr", has_text="Printer prints blank pages")
    expect(row).to_contain_text(AGENT1.full_name)
    screenshot(supervisor, "supervisor-5-closed")
    row.get_by_role("link", name="Transcript").click()
    expect(supervisor.get_by_role("heading", name="Transcript")).to_be_visible()
    expect(supervisor.locator(".sv-comment-line")).to_contain_text("Ask about the toner")
    screenshot(supervisor, "supervisor-7-transcript")

    supervisor.goto("/console/supervisor/?tab=tickets")
    request = supervisor.locator("tr", has_text="Email bounces at night")
    expect(request).to_contain_text("Outside hours")
    expect(supervisor.locator("tr", has_text="Call me about the VPN")).to_contain_text(
        "+44 20 7946 0011"
    )
    screenshot(supervisor, "supervisor-6-tickets")
    request.get_by_label(f"Assign ticket #{after_hours.pk} to").select_option(
        label=AGENT1.full_name
    )
    request.get_by_role("button", name="Assign").click()
    expect(supervisor.locator(".flash")).to_contain_text(f"assigned to {AGENT1.full_name}")
    assert Ticket.objects.get(pk=after_hours.pk).status == TicketStatus.ASSIGNED
    supervisor.locator(".sv-subtabs").get_by_role("link", name="Assigned", exact=True).click()
    assigned = supervisor.locator("tr", has_text="Email bounces at night")
    assigned.get_by_role("button", name="Close").click()
    expect(supervisor.locator(".flash")).to_contain_text("closed")
    supervisor.locator(".sv-subtabs").get_by_role("link", name="Closed", exact=True).click()
    supervisor.locator("tr", has_text="Email bounces at night").get_by_role(
        "button", name="Reopen"
    ).click()
    expect(supervisor.locator(".flash")).to_contain_text("reopened")
    assert Ticket.objects.get(pk=after_hours.pk).status == TicketStatus.ASSIGNED
