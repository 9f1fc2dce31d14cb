"""XSS payloads as chat file names stay inert everywhere a file message is
shown: the message payload (the browser puts the name in as text; body_html
is escaped), the Chat history tab of the portal and the console, the
supervisor's transcript page, the transcript email, and the download's
Content-Disposition header. The browser side is checked in
tests/e2e/test_chat_files_flow.py."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from chat import services, transcripts
from chat.models import ChatKind, Message, MessageKind
from chat.payloads import message_payload
from chat.transcripts import transcript_lines, transcript_text
from tests.chat.files_helpers import PDF_BYTES, png_bytes, upload
from tests.chat.test_xss_messages import Elements, assert_inert, assert_safe_fragment
from tests.personas import SUPERVISOR

pytestmark = pytest.mark.django_db

NAMES = [
    "<img src=x onerror=alert(1)>.png",
    '"><script>alert(1)</script>.pdf',
    "<svg onload=alert(1)>.png",
    "javascript:alert(1).pdf",
    "[x](javascript:alert(1)).pdf",
    "'><iframe src=javascript:alert(1)>.txt",
    "a; filename=evil.html.txt",
    "<b onmouseover=alert(1)>x</b>.pdf",
]
# What the server keeps: Django's upload parser drops everything up to the
# last slash or backslash of a name (no paths), the rest is kept as typed.
KEPT = [name.replace("\\", "/").rsplit("/", 1)[-1] for name in NAMES]


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def chat_with_files(alice, alice_ticket, agent1):  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    services.session_join(session_id=session.pk, agent=agent1)
    for index, name in enumerate(NAMES):
        # Through the real upload endpoint: the names as a browser sends them.
        user = alice if index % 2 == 0 else agent1
        content = png_bytes() if name.endswith(".png") else PDF_BYTES
        response = logged_in(user).post(
            f"/chat/sessions/{session.pk}/files/",
            {"file": upload(name, content), "client_id": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.content
    return session


def file_messages(session) -> list[Message]:  # type: ignore[no-untyped-def]
    return list(
        Message.objects.filter(session=session, kind=MessageKind.FILE)
        .select_related("attachment", "author")
        .order_by("seq")
    )


def test_names_are_kept_as_typed_and_escaped_in_html(chat_with_files):
    messages = file_messages(chat_with_files)
    assert [m.body for m in messages] == KEPT
    for message in messages:
        payload = message_payload(message)
        assert payload["attachment"]["name"] == message.body  # for textContent
        assert_safe_fragment(payload["body_html"])
        assert Elements(payload["body_html"]).elements == []  # no tag at all


def test_history_tabs_are_inert(chat_with_files, alice, agent1, alice_ticket):
    for user, name in ((alice, "portal"), (agent1, "console")):
        response = logged_in(user).get(
            reverse(f"{name}:ticket_detail", args=[alice_ticket.pk]) + "?tab=chats"
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert_inert(html)
        assert "&lt;img src=x onerror=alert(1)&gt;.png" in html
        links = [
            attrs["href"]
            for tag, attrs in Elements(html).elements
            if tag == "a" and "chat-file-link" in attrs.get("class", "")
        ]
        assert len(links) == len(NAMES)
        assert all(href.startswith("/chat/files/") for href in links)
    for line in transcript_lines(chat_with_files):
        assert_safe_fragment(str(line["body_html"]))


def test_supervisor_transcript_page_is_inert(chat_with_files):
    response = logged_in(SUPERVISOR.create()).get(
        reverse("supervisor:transcript", args=[chat_with_files.pk])
    )
    assert response.status_code == 200
    assert_inert(response.content.decode())


def test_transcript_email_and_text_are_inert(chat_with_files, agent1):
    services.session_end(session_id=chat_with_files.pk, agent=agent1)
    assert transcripts.transcript_email(session_id=chat_with_files.pk)
    (email,) = mail.outbox
    html, _ = email.alternatives[0]
    assert_inert(html)
    assert "<img src=x onerror" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in html
    text = transcript_text(chat_with_files)
    for name in KEPT:
        assert f"sent a file: {name} (" in text  # as typed, in a text file


def test_download_header_cannot_be_split(chat_with_files, alice):
    for message in file_messages(chat_with_files):
        response = logged_in(alice).get(f"/chat/files/{message.attachment_id}/")
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment; filename=")
        # One filename and one filename* parameter: quotes in the name were replaced.
        assert disposition.count('"') == 2
        assert "\n" not in disposition and "\r" not in disposition
