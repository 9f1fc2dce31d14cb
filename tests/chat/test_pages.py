"""The chat controls on portal and console pages, and the Chat history tab."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat import services
from chat.models import ChatKind, ContactChatPermission, PermissionValue
from presence.models import AgentConnection
from tests.personas import CAROL

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def portal_ticket(user, ticket) -> str:  # type: ignore[no-untyped-def]
    return logged_in(user).get(reverse("portal:ticket_detail", args=[ticket.pk])).content.decode()


def test_join_chat_and_start_chat_shown_when_allowed(alice, alice_ticket):
    assert "Join chat" in portal_ticket(alice, alice_ticket)
    assert "Start a chat" in logged_in(alice).get(reverse("portal:home")).content.decode()


def test_chat_buttons_hidden_without_permission(alice, alice_ticket):
    ContactChatPermission.objects.create(contact=alice.contact, value=PermissionValue.DENY)
    assert "Join chat" not in portal_ticket(alice, alice_ticket)
    assert "Start a chat" not in logged_in(alice).get(reverse("portal:home")).content.decode()


def test_push_chat_only_enabled_while_contact_online(agent1, alice, alice_ticket):
    url = reverse("console:ticket_detail", args=[alice_ticket.pk])
    html = logged_in(agent1).get(url).content.decode()
    assert "Push chat" in html and "Contact offline" in html
    AgentConnection.objects.create(user=alice, channel_name="x", last_seen=timezone.now())
    html = logged_in(agent1).get(url).content.decode()
    assert "Contact offline" not in html and "is online" in html


def test_chat_history_tab_shows_escaped_transcript(agent1, alice, alice_ticket):
    assert "Chat history" not in portal_ticket(alice, alice_ticket)  # no history yet
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent1)
    services.message_send(
        session_id=session.pk,
        author=alice,
        client_id=uuid.uuid4(),
        body='<img src=x onerror="alert(1)">',
    )
    for client, name in ((logged_in(alice), "portal"), (logged_in(agent1), "console")):
        html = client.get(
            reverse(f"{name}:ticket_detail", args=[alice_ticket.pk]) + "?tab=chats"
        ).content.decode()
        assert "Chat history" in html
        # Markdown without raw HTML, then nh3 (chat.formatting): the tag is text.
        assert '&lt;img src=x onerror="alert(1)"&gt;' in html
        assert "<img" not in html


def test_other_client_never_sees_the_history(alice, alice_ticket, agent1):
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    carol = CAROL.create()
    response = logged_in(carol).get(
        reverse("portal:ticket_detail", args=[alice_ticket.pk]) + "?tab=chats"
    )
    assert response.status_code == 404
    assert session.pk
