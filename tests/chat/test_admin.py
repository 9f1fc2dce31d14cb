import uuid

import pytest
from django.test import Client
from django.urls import reverse

from chat import services
from chat.models import ChatKind, ChatQueue, ChatSession, ChatSettings, Message
from tests.personas import ADMIN, AGENT2

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    admin = ADMIN.create()
    client = Client()
    client.force_login(admin)
    return client


def test_chat_admin_pages(admin_client, alice, alice_ticket, agent1, default_queue):
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent1)
    services.message_send(
        session_id=session.pk, author=alice, client_id=uuid.uuid4(), body="<script>x()</script>"
    )
    ChatSettings.load()
    for model in (ChatSession, ChatQueue, ChatSettings, Message):
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url
    page = admin_client.get(reverse("admin:chat_chatsession_change", args=[session.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt;" in html and "<script>x()" not in html
    assert admin_client.get(reverse("admin:chat_chatsession_add")).status_code == 403


def test_clients_cannot_open_chat_admin(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:chat_chatsession_changelist"))
    assert response.status_code == 302


def test_session_admin_shows_transfers(admin_client, alice, alice_ticket, agent1, agent2):
    from chat.agent_tools.transfers import session_transfer

    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent1)
    session_transfer(
        session_id=session.pk, by=agent1, to_agent_id=agent2.pk, reason="<b>night shift</b>"
    )
    html = admin_client.get(reverse("admin:chat_chatsession_change", args=[session.pk]))
    html = html.content.decode()
    assert "&lt;b&gt;night shift&lt;/b&gt;" in html
    assert AGENT2.full_name in html


def test_session_admin_shows_comments_pages_and_files_inert(
    admin_client, alice, alice_ticket, agent1
):
    from django.utils import timezone

    from chat.models import ChatAttachment, ChatComment, PageView, VisitorInfo

    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent1)
    now = timezone.now()
    payload = "<img src=x onerror=alert(1)>"
    ChatComment.objects.create(session=session, author=agent1, body=payload, created_at=now)
    PageView.objects.create(session=session, path="/portal/", title=payload, viewed_at=now)
    VisitorInfo.objects.create(session=session, user_agent=payload, recorded_at=now)
    ChatAttachment.objects.create(
        session=session, original_name=f"{payload}.png", size=1, created_at=now
    )
    html = admin_client.get(reverse("admin:chat_chatsession_change", args=[session.pk]))
    assert html.status_code == 200
    body = html.content.decode()
    assert body.count("&lt;img src=x onerror=alert(1)&gt;") >= 4
    assert payload not in body
