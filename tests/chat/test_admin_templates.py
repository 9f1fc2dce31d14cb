"""Greeting/farewell templates in Django admin: global and per agent, unknown
placeholders refused with a clear error, bodies shown inert."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import ChatTemplate, TemplateKind
from tests.personas import ADMIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    admin = ADMIN.create()
    client = Client()
    client.force_login(admin)
    return client


def test_add_global_and_own_templates(admin_client, agent1):
    url = reverse("admin:chat_chattemplate_add")
    assert admin_client.get(url).status_code == 200
    form = {"kind": "greeting", "title": "Hello", "ordering": "0"}
    response = admin_client.post(
        url, {**form, "body": "Hi {client_first_name}, I am {agent_name}.", "owner": ""}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = admin_client.post(
        url, {**form, "kind": "farewell", "title": "Bye", "body": "Bye!", "owner": agent1.pk}
    )
    assert response.status_code == 302
    assert list(ChatTemplate.objects.order_by("title").values_list("title", "owner")) == [
        ("Bye", agent1.pk),
        ("Hello", None),
    ]
    page = admin_client.get(reverse("admin:chat_chattemplate_changelist")).content.decode()
    assert "Everyone (global)" in page and agent1.display_name in page


def test_unknown_placeholder_is_a_clear_error(admin_client):
    response = admin_client.post(
        reverse("admin:chat_chattemplate_add"),
        {"kind": "greeting", "title": "Hi", "ordering": "0", "body": "Hi {first_name}!"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown placeholder {first_name}" in html
    assert "{client_first_name}, {agent_name}" in html
    assert not ChatTemplate.objects.exists()


def test_bodies_are_escaped_in_admin(admin_client):
    template = ChatTemplate.objects.create(
        kind=TemplateKind.GREETING,
        title="<img src=x onerror=alert(1)>",
        body="<script>x()</script>",
    )
    for url in (
        reverse("admin:chat_chattemplate_changelist"),
        reverse("admin:chat_chattemplate_change", args=[template.pk]),
    ):
        html = admin_client.get(url).content.decode()
        assert "<script>x()" not in html and "<img src=x" not in html


def test_agents_and_clients_cannot_open_template_admin(client, agent1, alice):
    for user in (agent1, alice):
        client.force_login(user)
        response = client.get(reverse("admin:chat_chattemplate_changelist"))
        assert response.status_code == 302
