"""The supervisor console pages (/console/supervisor/): access (a permission
matrix over every view), the Closed and Tickets tabs and their ticket
actions, fixed query counts, and comments never reaching a client through a
page, the transcript file, the transcript email or the API."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from chat import services
from chat.models import (
    ChatKind,
    ChatSession,
    Message,
    Participant,
    ParticipantRole,
    SessionStatus,
)
from chat.supervision import comments as supervision_comments
from chat.supervision import selectors as supervision_selectors
from chat.supervision import watch as supervision_watch
from tests.factories import AgentFactory, TicketFactory
from tests.personas import AGENT1
from tickets.models import Ticket, TicketAttachment, TicketStatus

pytestmark = pytest.mark.django_db

SECRET = f"@{AGENT1.first_name} the toner is a decoy <script>alert('c')</script>"


def logged_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def live(alice, alice_ticket, agent1):  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    return services.session_join(session_id=session.pk, agent=agent1)


def _abandoned(client_user: User, ticket: Ticket | None = None) -> ChatSession:
    now = timezone.now()
    return ChatSession.objects.create(
        kind=ChatKind.POST_TICKET if ticket else ChatKind.PRE_TICKET,
        status=SessionStatus.ABANDONED,
        ticket=ticket,
        contact=client_user.contact,
        client=client_user,
        subject="After hours",
        outside_hours=True,
        requested_at=now,
        last_activity_at=now,
        ended_at=now,
    )


# --- Access ----------------------------------------------------------------------------------


def _views(session: ChatSession, ticket: Ticket) -> list[tuple[str, str]]:
    console = reverse("supervisor:console")
    return [
        ("get", console),
        ("get", console + "?tab=closed"),
        ("get", console + "?tab=tickets&state=assigned"),
        ("get", reverse("supervisor:transcript", args=[session.pk])),
        ("post", reverse("supervisor:ticket_assign", args=[ticket.pk])),
        ("post", reverse("supervisor:ticket_close", args=[ticket.pk])),
        ("post", reverse("supervisor:ticket_reopen", args=[ticket.pk])),
    ]


@pytest.mark.parametrize("who", ["anonymous", "alice", "agent1", "agent2", "supervisor"])
def test_permission_matrix(who, request, live, alice_ticket, agent1):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = logged_in(user)
    # agent1 took the ticket by joining its chat (chat.services.session_join).
    alice_ticket.refresh_from_db()
    before = (alice_ticket.status, alice_ticket.assignee_id, alice_ticket.closed_at)
    for method, url in _views(live, alice_ticket):
        data = {"assignee": agent1.pk, "state": "unassigned"} if method == "post" else None
        response = getattr(client, method)(url, data)
        if who == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        elif who == "supervisor":
            assert response.status_code == (200 if method == "get" else 302), url
        else:
            # As the rest of the console: the 403 page, which says where to go.
            assert response.status_code == 403, (who, url)
    ticket = Ticket.objects.get(pk=alice_ticket.pk)
    if who != "supervisor":
        assert (ticket.status, ticket.assignee_id, ticket.closed_at) == before


def test_header_links_to_the_console_for_supervisors_only(supervisor, agent1):
    url = reverse("console:tickets")
    link = f'href="{reverse("supervisor:console")}"'
    assert link in logged_in(supervisor).get(url).content.decode()
    assert link not in logged_in(agent1).get(url).content.decode()


def test_transcript_of_unknown_chat_is_404(supervisor):
    assert (
        logged_in(supervisor).get(reverse("supervisor:transcript", args=[9999])).status_code == 404
    )


# --- Tabs ------------------------------------------------------------------------------------


def test_chats_tab_is_the_live_shell(supervisor):
    html = logged_in(supervisor).get(reverse("supervisor:console")).content.decode()
    for marker in ('id="sv-numbers"', "data-sv-agents", "data-sv-waiting", 'id="sv-watch"'):
        assert marker in html
    assert "js/chat/supervisor.js" in html


def test_closed_tab_lists_ended_chats_with_links(supervisor, live, agent1, alice_ticket):
    services.session_end(session_id=live.pk, agent=agent1)
    html = logged_in(supervisor).get(reverse("supervisor:console") + "?tab=closed").content.decode()
    assert reverse("supervisor:transcript", args=[live.pk]) in html
    assert reverse("console:ticket_detail", args=[alice_ticket.pk]) in html
    assert agent1.full_name in html


def test_tickets_tab_actions(supervisor, alice, agent1):
    ticket = TicketFactory(contact=alice.contact, subject="Out of hours printer")
    request = _abandoned(alice, ticket)
    console = logged_in(supervisor)
    url = reverse("supervisor:console") + "?tab=tickets"
    html = console.get(url).content.decode()
    assert "Out of hours printer" in html and "Outside hours" in html

    response = console.post(
        reverse("supervisor:ticket_assign", args=[ticket.pk]),
        {"assignee": agent1.pk, "state": "unassigned"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?tab=tickets&state=unassigned")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (TicketStatus.ASSIGNED, agent1)
    assert request.pk in {s.pk for s in supervision_selectors.follow_up_requests(state="assigned")}

    console.post(reverse("supervisor:ticket_close", args=[ticket.pk]), {"state": "assigned"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    # Closing twice: a clear message, nothing changes.
    response = console.post(
        reverse("supervisor:ticket_close", args=[ticket.pk]), {"state": "closed"}, follow=True
    )
    assert "already closed" in response.content.decode()

    console.post(reverse("supervisor:ticket_reopen", args=[ticket.pk]), {"state": "closed"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED

    # A bad assignee (a client) is refused.
    response = console.post(
        reverse("supervisor:ticket_assign", args=[ticket.pk]),
        {"assignee": alice.pk, "state": "assigned"},
        follow=True,
    )
    assert "Choose who to assign" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == agent1


def test_assign_a_closed_ticket_says_reopen_first(supervisor, alice, agent1):
    ticket = TicketFactory(contact=alice.contact, status=TicketStatus.CLOSED)
    response = logged_in(supervisor).post(
        reverse("supervisor:ticket_assign", args=[ticket.pk]),
        {"assignee": agent1.pk, "state": "closed"},
        follow=True,
    )
    assert "Reopen the ticket" in response.content.decode()


# --- Query counts ----------------------------------------------------------------------------


def _add_closed_chats(alice: User, agent: User, count: int) -> None:
    now = timezone.now()
    sessions = ChatSession.objects.bulk_create(
        ChatSession(
            kind=ChatKind.POST_TICKET,
            status=SessionStatus.ENDED,
            ticket=TicketFactory(contact=alice.contact),
            contact=alice.contact,
            client=alice,
            requested_at=now,
            answered_at=now,
            ended_at=now,
            ended_by=agent,
            last_activity_at=now,
        )
        for _ in range(count)
    )
    Participant.objects.bulk_create(
        Participant(session=s, user=agent, role=ParticipantRole.AGENT, joined_at=now)
        for s in sessions
    )


def _add_requests(alice: User, agent: User, count: int) -> None:
    for n in range(count):
        ticket = None
        if n % 3:
            ticket = TicketFactory(
                contact=alice.contact,
                assignee=agent if n % 3 == 2 else None,
                status=TicketStatus.ASSIGNED if n % 3 == 2 else TicketStatus.UNASSIGNED,
            )
        _abandoned(alice, ticket)


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url", "add"),
    [
        ("?tab=closed", _add_closed_chats),
        ("?tab=tickets&state=unassigned", _add_requests),
        ("?tab=tickets&state=assigned", _add_requests),
    ],
)
def test_tabs_cost_the_same_queries_for_10_or_200_rows(supervisor, alice, agent1, url, add):
    client = logged_in(supervisor)
    full = reverse("supervisor:console") + url
    add(alice, agent1, 10)
    small = _count(client, full)
    add(alice, agent1, 190)
    large = _count(client, full)
    assert small == large
    assert large <= 12


def test_snapshot_costs_the_same_queries_for_10_or_200_chats(alice, agent1):
    def add(count: int) -> None:
        now = timezone.now()
        for status in (SessionStatus.WAITING, SessionStatus.ACTIVE):
            sessions = ChatSession.objects.bulk_create(
                ChatSession(
                    kind=ChatKind.PRE_TICKET,
                    status=status,
                    contact=alice.contact,
                    client=alice,
                    subject="s",
                    requested_at=now,
                    last_activity_at=now,
                )
                for _ in range(count)
            )
            Participant.objects.bulk_create(
                Participant(session=s, user=alice, role=ParticipantRole.CLIENT, joined_at=now)
                for s in sessions
            )
            if status == SessionStatus.ACTIVE:
                Participant.objects.bulk_create(
                    Participant(session=s, user=agent1, role=ParticipantRole.AGENT, joined_at=now)
                    for s in sessions
                )
        for n in range(count // 10):
            AgentFactory(email=f"extra{count}-{n}@example.com")

    def count_queries() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as queries:
            snap = supervision_selectors.console_snapshot()
        return len(queries), snap

    add(10)
    small, _ = count_queries()
    add(190)
    large, snap = count_queries()
    assert small == large <= 6
    assert len(snap["chats"]) == 200 and len(snap["waiting"]) == 200
    agent = next(a for a in snap["agents"] if a["id"] == agent1.pk)
    assert agent["open_chats"] == 200


# --- Comments never reach a client -----------------------------------------------------------


def test_comments_stay_out_of_everything_the_client_gets(
    live, alice, alice_ticket, agent1, supervisor, django_capture_on_commit_callbacks
):
    services.message_send(session_id=live.pk, author=alice, client_id=uuid.uuid4(), body="hello")
    supervision_comments.comment_add(session_id=live.pk, author=supervisor, body=SECRET)
    supervision_comments.comment_add(session_id=live.pk, author=agent1, body="agent side note")
    with django_capture_on_commit_callbacks(execute=True):
        services.session_end(session_id=live.pk, agent=agent1)

    client = logged_in(alice)
    pages = [
        reverse("portal:ticket_detail", args=[alice_ticket.pk]) + "?tab=chats",
        reverse("portal:ticket_detail", args=[alice_ticket.pk]),
        reverse("portal:home"),
        "/api/chat/sessions/",
        f"/api/chat/sessions/{live.pk}/",
        f"/api/chat/sessions/{live.pk}/messages/",
        f"/api/tickets/{alice_ticket.pk}/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "decoy" not in body and "side note" not in body, url
    assert "hello" in client.get(pages[0]).content.decode()  # the history is there

    # The transcript attached to the ticket, and the email.
    transcript = TicketAttachment.objects.get(ticket=alice_ticket, source_key__contains="chat")
    text = transcript.file.open("rb").read().decode()
    assert "hello" in text and "decoy" not in text and "side note" not in text
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert "decoy" not in email.body and "decoy" not in email.alternatives[0][0]
    # Comments are not messages: nothing to replay, ever.
    assert not Message.objects.filter(body__contains="decoy").exists()


def test_transcript_page_shows_comments_as_inert_text(live, supervisor, agent1):
    supervision_comments.comment_add(session_id=live.pk, author=supervisor, body=SECRET)
    html = logged_in(supervisor).get(reverse("supervisor:transcript", args=[live.pk])).content
    html = html.decode()
    assert "Internal comment" in html
    assert "&lt;script&gt;alert(&#x27;c&#x27;)&lt;/script&gt;" in html
    assert "<script>alert(" not in html
    assert f"Mentioned: {agent1.full_name}" in html


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    '"><svg onload=alert(1)>',
]


def _inert(html: str) -> None:
    for raw in ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:'):
        assert raw not in html, raw


@pytest.mark.parametrize("payload", XSS)
def test_xss_in_comments_names_and_subjects_is_inert(payload, supervisor, alice, agent1):
    alice.full_name = payload
    alice.save()
    live = services.session_request(
        client=alice, kind=ChatKind.PRE_TICKET, subject=f"Subject {payload}"
    )
    services.session_join(session_id=live.pk, agent=agent1)
    supervision_comments.comment_add(
        session_id=live.pk, author=supervisor, body=f"@{agent1.first_name} {payload}"
    )
    # The watch state carries the text as typed; the browser inserts it as text.
    state = supervision_watch.watch_state(session_id=live.pk, supervisor=supervisor)
    assert state["comments"][0]["body"] == f"@{agent1.first_name} {payload}"
    console = logged_in(supervisor)
    _inert(console.get(reverse("supervisor:transcript", args=[live.pk])).content.decode())
    services.session_end(session_id=live.pk, agent=agent1, outcome="close", reason="done")
    _inert(console.get(reverse("supervisor:console") + "?tab=closed").content.decode())
    ticket = TicketFactory(contact=alice.contact, subject=payload)
    _abandoned(alice, ticket)
    _inert(console.get(reverse("supervisor:console") + "?tab=tickets").content.decode())
