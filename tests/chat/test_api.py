"""REST API of chat sessions and message history: same access as the socket."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from chat import services
from chat.models import ChatKind
from tests.personas import CAROL, SUPERVISOR

pytestmark = pytest.mark.django_db


def api(user=None) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def chat(alice, alice_ticket, agent1):  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent1)
    for i in range(5):
        services.message_send(
            session_id=session.pk, author=alice, client_id=uuid.uuid4(), body=f"m{i}"
        )
    return session


def test_client_lists_and_reads_own_chat(alice, chat):
    response = api(alice).get("/api/chat/sessions/")
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == [chat.pk]
    page = api(alice).get(f"/api/chat/sessions/{chat.pk}/messages/?after_seq=0&limit=3").json()
    assert [m["seq"] for m in page["results"]] == [1, 2, 3]
    assert page["next_after_seq"] == 3
    rest = api(alice).get(f"/api/chat/sessions/{chat.pk}/messages/?after_seq=3").json()
    assert rest["results"][-1]["seq"] == chat.__class__.objects.get(pk=chat.pk).last_seq
    assert rest["next_after_seq"] is None


def test_other_client_and_outside_agent_get_404(chat, agent2):
    carol = CAROL.create()
    for user in (carol, agent2):
        assert api(user).get(f"/api/chat/sessions/{chat.pk}/").status_code == 404
        assert api(user).get(f"/api/chat/sessions/{chat.pk}/messages/").status_code == 404
        assert api(user).get("/api/chat/sessions/").json()["results"] == []


def test_participant_agent_and_supervisor_read(chat, agent1):
    assert api(agent1).get(f"/api/chat/sessions/{chat.pk}/messages/").status_code == 200
    supervisor = SUPERVISOR.create()
    assert api(supervisor).get(f"/api/chat/sessions/{chat.pk}/").status_code == 200


def test_anonymous_refused(chat):
    assert api().get("/api/chat/sessions/").status_code in (401, 403)
    assert api().get(f"/api/chat/sessions/{chat.pk}/messages/").status_code in (401, 403)


@pytest.mark.parametrize("query", ["after_seq=-1", "after_seq=x", "limit=0", "limit=100000"])
def test_bad_paging_parameters(alice, chat, query):
    response = api(alice).get(f"/api/chat/sessions/{chat.pk}/messages/?{query}")
    assert response.status_code == 400


def test_filter_by_ticket(alice, chat, alice_ticket):
    assert api(alice).get(f"/api/chat/sessions/?ticket={alice_ticket.pk}").json()["count"] == 1
    assert api(alice).get("/api/chat/sessions/?ticket=abc").status_code == 400
