"""The agent workspace (/console/chats/): who may open it, the Chats link of the
console header, and the context pane of one chat (its ticket, contact and
company), which only someone who may read the chat gets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from chat import services
from chat.models import ChatKind, ChatSession
from tests.factories import NoteFactory
from tests.personas import ADMIN
from tickets.models import TimeEntry

pytestmark = pytest.mark.django_db

WORKSPACE = "/console/chats/"


def logged_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def administrator():  # type: ignore[no-untyped-def]
    return ADMIN.create()


@pytest.fixture
def live(alice, alice_ticket, agent1) -> ChatSession:  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    return services.session_join(session_id=session.pk, agent=agent1)


def test_the_workspace_is_at_console_chats() -> None:
    assert reverse("workspace:chats") == WORKSPACE


@pytest.mark.parametrize("who", ["agent1", "supervisor", "administrator"])
def test_staff_open_the_workspace(who, request) -> None:
    response = logged_in(request.getfixturevalue(who)).get(WORKSPACE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="workspace"' in html
    # The three panes are named landmarks; the chats come over the socket.
    for pane in ('aria-labelledby="ws-list-title"', 'aria-label="Conversation"'):
        assert pane in html
    assert 'aria-labelledby="ws-context-title"' in html
    assert "js/chat/console.js" in html


def test_a_client_gets_the_403_page(alice) -> None:
    response = logged_in(alice).get(WORKSPACE)
    assert response.status_code == 403
    assert 'id="workspace"' not in response.content.decode()


def test_anonymous_visitors_go_to_the_login_page() -> None:
    response = Client().get(WORKSPACE)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={WORKSPACE}"


def test_the_console_header_links_to_the_workspace(agent1) -> None:
    for url in (reverse("console:tickets"), WORKSPACE):
        html = logged_in(agent1).get(url).content.decode()
        assert f'href="{WORKSPACE}"' in html and ">Chats</a>" in html
    # On the workspace the link is the current page.
    assert 'aria-current="page"' in logged_in(agent1).get(WORKSPACE).content.decode()


# --- The context pane -------------------------------------------------------------------------


def context_url(session: ChatSession) -> str:
    return reverse("workspace:context", args=[session.pk])


def test_the_context_shows_the_ticket_contact_and_company(live, agent1, alice_ticket) -> None:
    NoteFactory(ticket=alice_ticket, body="Toner replaced last week", is_internal=True)
    TimeEntry.objects.create(ticket=alice_ticket, agent=agent1, minutes=25)
    response = logged_in(agent1).get(context_url(live))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"#{alice_ticket.number}" in html and alice_ticket.subject in html
    assert reverse("console:ticket_detail", args=[alice_ticket.pk]) in html
    assert "Toner replaced last week" in html  # staff see internal notes
    assert "25 min" in html
    assert "Chat history" in html
    contact = alice_ticket.contact
    assert contact.name in html and contact.email in html and contact.company.name in html


def test_a_chat_without_a_ticket_says_so(alice, agent1) -> None:
    session = services.session_request(client=alice, kind=ChatKind.PRE_TICKET, subject="VPN down")
    services.session_join(session_id=session.pk, agent=agent1)
    html = logged_in(agent1).get(context_url(session)).content.decode()
    assert "No ticket yet" in html
    assert alice.contact.name in html


def test_the_context_is_for_those_who_may_read_the_chat(live, alice, agent2, supervisor) -> None:
    url = context_url(live)
    assert logged_in(supervisor).get(url).status_code == 200
    # An agent outside an answered chat learns nothing, not even that it exists.
    assert logged_in(agent2).get(url).status_code == 404
    assert logged_in(agent2).get(reverse("workspace:context", args=[9999])).status_code == 404
    assert logged_in(alice).get(url).status_code == 403
    response = Client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_any_agent_reads_the_context_of_a_waiting_request(alice, alice_ticket, agent2) -> None:
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    assert logged_in(agent2).get(context_url(session)).status_code == 200


def test_the_context_reads_a_fixed_number_of_queries(live, agent1, alice_ticket) -> None:
    def queries() -> int:
        client = logged_in(agent1)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(context_url(live)).status_code == 200
        return len(captured)

    NoteFactory(ticket=alice_ticket, author=agent1)
    TimeEntry.objects.create(ticket=alice_ticket, agent=agent1, minutes=5)
    few = queries()
    for n in range(8):
        NoteFactory(ticket=alice_ticket, body=f"Note {n}")
        TimeEntry.objects.create(ticket=alice_ticket, agent=agent1, minutes=n + 1)
    assert queries() == few
