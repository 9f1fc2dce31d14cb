"""One chat where every field a person can type carries an XSS payload: the
client's and the agent's names, the ticket subject, a message, a template
body sent as a message, a file name, a supervisor comment, a page title, a
transfer reason and a block reason. Every page that shows the chat must stay
inert: portal and console ticket pages with their Chat history tab, the
supervisor console and its transcript page, and the Django admin.

The checks are those of test_xss_messages (parsed HTML: no event handler
attributes, no script URLs, no scripts but our own)."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Company
from chat import services
from chat.agent_tools import blocks, transfers
from chat.agent_tools import templates as message_templates
from chat.files.services import attachment_send
from chat.models import ChatKind, ChatTemplate
from chat.supervision import comments as supervision_comments
from chat.visitors import page_views
from presence.models import PresenceStatus
from tests.chat.files_helpers import png_bytes, upload
from tests.chat.test_xss_messages import assert_inert
from tests.factories import TicketFactory
from tests.personas import ADMIN, AGENT1, AGENT2, ALICE, SUPERVISOR

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
]


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(params=PAYLOADS)
def hostile_chat(request, tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    payload = request.param
    company = Company.objects.create(name=f"Acme {payload}")
    # The demo people, each with the payload in its name.
    alice = ALICE.create(company=company, full_name=f"{ALICE.first_name} {payload}")
    agent1 = AGENT1.create(
        presence=PresenceStatus.AVAILABLE, full_name=f"{AGENT1.first_name} {payload}"
    )
    agent2 = AGENT2.create(
        presence=PresenceStatus.AVAILABLE, full_name=f"{AGENT2.first_name} {payload}"
    )
    supervisor = SUPERVISOR.create(full_name=f"{SUPERVISOR.first_name} {payload}")
    ticket = TicketFactory(contact=alice.contact, subject=f"Printer {payload}")

    session = services.session_request(client=alice, kind=ChatKind.POST_TICKET, ticket_id=ticket.pk)
    services.session_join(session_id=session.pk, agent=agent1)
    page_views.page_view_record(
        session_id=session.pk, client=alice, path="/portal/", title=f"Page {payload}"
    )
    services.message_send(session_id=session.pk, author=alice, client_id=uuid.uuid4(), body=payload)
    template = ChatTemplate.objects.create(
        kind="greeting", title=f"Hi {payload}", body=f"Hello {{client_first_name}} {payload}"
    )
    body = message_templates.render(
        template.body, message_templates.placeholder_values(session, agent1)
    )
    services.message_send(session_id=session.pk, author=agent1, client_id=uuid.uuid4(), body=body)
    attachment_send(
        session_id=session.pk,
        author=alice,
        client_id=uuid.uuid4(),
        upload=upload(f"{payload}.png", png_bytes(), "image/png"),
    )
    supervision_comments.comment_add(
        session_id=session.pk, author=supervisor, body=f"@agent1 {payload}"
    )
    blocks.client_block(session_id=session.pk, agent=agent1, reason=payload, block_ip=False)
    transfers.session_transfer(
        session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason=payload
    )
    return {
        "session": session,
        "ticket": ticket,
        "alice": alice,
        "agent2": agent2,
        "supervisor": supervisor,
    }


def test_every_page_that_shows_the_chat_is_inert(hostile_chat) -> None:
    session, ticket = hostile_chat["session"], hostile_chat["ticket"]
    admin = ADMIN.create()
    pages = [
        (hostile_chat["alice"], reverse("portal:ticket_detail", args=[ticket.pk])),
        (hostile_chat["alice"], reverse("portal:ticket_detail", args=[ticket.pk]) + "?tab=chats"),
        (hostile_chat["agent2"], reverse("console:ticket_detail", args=[ticket.pk])),
        (
            hostile_chat["agent2"],
            reverse("console:ticket_detail", args=[ticket.pk]) + "?tab=chats",
        ),
        (hostile_chat["supervisor"], reverse("supervisor:console")),
        (hostile_chat["supervisor"], reverse("supervisor:transcript", args=[session.pk])),
        (admin, reverse("admin:chat_chatsession_change", args=[session.pk])),
        (admin, reverse("admin:chat_chatblock_changelist")),
        (admin, reverse("admin:chat_chattemplate_changelist")),
    ]
    for user, url in pages:
        response = logged_in(user).get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode())


def test_the_client_never_sees_staff_only_text(hostile_chat) -> None:
    """Comments, page titles and the block and transfer reasons are staff-only."""
    ticket = hostile_chat["ticket"]
    html = (
        logged_in(hostile_chat["alice"])
        .get(reverse("portal:ticket_detail", args=[ticket.pk]) + "?tab=chats")
        .content.decode()
    )
    assert "@agent1" not in html
    assert "Page " not in html
    assert "transferred the chat to" in html
