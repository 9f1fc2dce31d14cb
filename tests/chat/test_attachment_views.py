"""The HTTP side of chat files (chat.files.views): the upload endpoint, and
the access matrix and headers of the download and the inline preview."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from chat import services
from chat.files.services import attachment_send
from chat.models import ChatAttachment, ChatKind, ChatSession, Message, MessageKind
from tests.chat.files_helpers import (
    HTML_BYTES,
    PDF_BYTES,
    SVG_BYTES,
    png_bytes,
    stored_files,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(alice, alice_ticket, agent1) -> ChatSession:  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    return services.session_join(session_id=session.pk, agent=agent1)


@pytest.fixture
def people(alice, bob, agent1, agent2, supervisor):  # type: ignore[no-untyped-def]
    return {
        "alice": alice,
        "bob": bob,
        "agent1": agent1,
        "agent2": agent2,
        "supervisor": supervisor,
    }


def browser(user=None, *, csrf: bool = False) -> Client:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def post_file(client: Client, session_id: int, name: str, content: bytes, **extra):  # type: ignore[no-untyped-def]
    data = {"file": upload(name, content), "client_id": extra.pop("client_id", str(uuid.uuid4()))}
    return client.post(f"/chat/sessions/{session_id}/files/", data, **extra)


def stored(live, user, name="shot.png", content=None) -> ChatAttachment:  # type: ignore[no-untyped-def]
    return attachment_send(
        session_id=live.pk,
        author=user,
        client_id=uuid.uuid4(),
        upload=upload(name, png_bytes() if content is None else content),
    ).message.attachment


# --- Upload ------------------------------------------------------------------------------


class TestUpload:
    def test_client_uploads_and_gets_the_message(self, live, alice):
        response = post_file(browser(alice), live.pk, "shot.png", png_bytes())
        assert response.status_code == 201
        body = response.json()
        assert body["created"] is True
        message = body["message"]
        assert message["kind"] == "file" and message["body"] == "shot.png"
        assert message["attachment"]["preview_url"].endswith("/preview/")
        assert Message.objects.filter(session=live, kind=MessageKind.FILE).count() == 1

    def test_retry_with_the_same_client_id_is_one_message(self, live, agent1):
        client = browser(agent1)
        client_id = str(uuid.uuid4())
        first = post_file(client, live.pk, "a.pdf", PDF_BYTES, client_id=client_id)
        again = post_file(client, live.pk, "a.pdf", PDF_BYTES, client_id=client_id)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["message"]["seq"] == again.json()["message"]["seq"]
        assert again.json()["created"] is False
        assert ChatAttachment.objects.count() == 1
        assert len(stored_files()) == 1

    def test_csrf_is_required(self, live, alice):
        client = browser(alice, csrf=True)
        refused = post_file(client, live.pk, "shot.png", png_bytes())
        assert refused.status_code == 403
        assert ChatAttachment.objects.count() == 0
        client.get("/portal/")  # sets the csrftoken cookie, as a page view does
        token = client.cookies["csrftoken"].value
        accepted = post_file(client, live.pk, "shot.png", png_bytes(), HTTP_X_CSRFTOKEN=token)
        assert accepted.status_code == 201

    def test_anonymous_gets_401_json(self, live):
        response = post_file(browser(), live.pk, "shot.png", png_bytes())
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        assert stored_files() == []

    @pytest.mark.parametrize(
        ("who", "status", "code"),
        [
            ("agent2", 404, "not_found"),
            ("bob", 404, "not_found"),
            ("supervisor", 404, "not_found"),
        ],
    )
    def test_outsiders_are_refused(self, live, people, who, status, code):
        response = post_file(browser(people[who]), live.pk, "shot.png", png_bytes())
        assert (response.status_code, response.json()["code"]) == (status, code)
        assert ChatAttachment.objects.count() == 0 and stored_files() == []

    def test_ended_chat_is_409(self, live, alice, agent1):
        services.session_end(session_id=live.pk, agent=agent1)
        response = post_file(browser(alice), live.pk, "shot.png", png_bytes())
        assert response.status_code == 409
        assert "ended" in response.json()["message"]
        assert stored_files() == []

    def test_refused_type_is_400_with_the_reason(self, live, alice):
        response = post_file(browser(alice), live.pk, "run.exe", b"MZ")
        assert response.status_code == 400
        assert response.json()["code"] == "attachment_refused"
        assert "not accepted" in response.json()["message"]
        assert stored_files() == []

    def test_oversize_is_413(self, live, alice, settings):
        settings.ATTACHMENT_MAX_BYTES = 30
        response = post_file(browser(alice), live.pk, "shot.png", png_bytes(20, 20))
        assert response.status_code == 413
        assert response.json()["code"] == "attachment_too_large"
        assert ChatAttachment.objects.count() == 0 and stored_files() == []

    def test_far_oversize_is_refused_before_the_body_is_read(self, live, alice, settings):
        settings.ATTACHMENT_MAX_BYTES = 1000
        response = post_file(browser(alice), live.pk, "big.txt", b"x" * 200_000)
        assert response.status_code == 413
        assert "1000" not in response.json()["message"]  # said in MB, not bytes
        assert stored_files() == []

    def test_missing_file(self, live, alice):
        response = browser(alice).post(
            f"/chat/sessions/{live.pk}/files/", {"client_id": str(uuid.uuid4())}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "attachment_missing"

    def test_get_is_not_allowed(self, live, alice):
        assert browser(alice).get(f"/chat/sessions/{live.pk}/files/").status_code == 405


# --- Download and preview: access ----------------------------------------------------------


MATRIX = [
    ("anonymous", 302),
    ("alice", 200),  # the chat's client
    ("bob", 404),  # another client of the same company
    ("agent1", 200),  # the agent in the chat
    ("agent2", 404),  # an agent not in it
    ("supervisor", 200),
]


@pytest.mark.parametrize(("who", "status"), MATRIX)
def test_download_access(live, alice, people, who, status):
    attachment = stored(live, alice)
    client = browser(None if who == "anonymous" else people[who])
    response = client.get(f"/chat/files/{attachment.pk}/")
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/accounts/login/")
    if status == 200:
        assert b"".join(response.streaming_content) == png_bytes()


@pytest.mark.parametrize(("who", "status"), MATRIX)
def test_preview_access(live, alice, people, who, status):
    attachment = stored(live, alice)
    client = browser(None if who == "anonymous" else people[who])
    assert client.get(f"/chat/files/{attachment.pk}/preview/").status_code == status


def test_agent_who_left_still_reads_the_files_of_its_chat(live, alice, agent1):
    attachment = stored(live, alice)
    services.session_end(session_id=live.pk, agent=agent1)
    services.session_leave(session_id=live.pk, user=agent1)
    assert browser(agent1).get(f"/chat/files/{attachment.pk}/").status_code == 200


def test_unknown_id_is_404(alice):
    assert browser(alice).get("/chat/files/999999/").status_code == 404
    assert browser(alice).get("/chat/files/999999/preview/").status_code == 404


def test_missing_file_on_disk_is_404(live, alice):
    attachment = stored(live, alice)
    attachment.file.delete(save=False)
    assert browser(alice).get(f"/chat/files/{attachment.pk}/").status_code == 404


# --- Headers ---------------------------------------------------------------------------------


def assert_locked_down(response) -> None:  # type: ignore[no-untyped-def]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("private")


def test_download_is_an_attachment_with_nosniff(live, agent1, alice):
    attachment = stored(live, agent1, "guide.pdf", PDF_BYTES)
    response = browser(alice).get(f"/chat/files/{attachment.pk}/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="guide.pdf"')
    assert_locked_down(response)


def test_image_download_is_still_an_attachment(live, alice):
    attachment = stored(live, alice)
    response = browser(alice).get(f"/chat/files/{attachment.pk}/")
    assert response["Content-Disposition"].startswith("attachment;")


def test_preview_of_an_image_is_inline(live, alice, agent1):
    attachment = stored(live, alice, "screen shot.png")
    response = browser(agent1).get(f"/chat/files/{attachment.pk}/preview/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith('inline; filename="screen shot.png"')
    assert_locked_down(response)


def test_pdf_has_no_preview(live, alice):
    attachment = stored(live, alice, "guide.pdf", PDF_BYTES)
    assert browser(alice).get(f"/chat/files/{attachment.pk}/preview/").status_code == 404


def test_png_whose_bytes_are_html_is_never_inline(live, alice):
    attachment = stored(live, alice, "cat.png", HTML_BYTES)
    client = browser(alice)
    assert client.get(f"/chat/files/{attachment.pk}/preview/").status_code == 404
    response = client.get(f"/chat/files/{attachment.pk}/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert_locked_down(response)


def test_preview_resniffs_the_stored_bytes(live, alice):
    """Even a row marked as an image is not served inline if its bytes are
    not one (e.g. the file was replaced on disk)."""
    attachment = stored(live, alice)
    with attachment.file.open("wb") as handle:
        handle.write(HTML_BYTES)
    assert browser(alice).get(f"/chat/files/{attachment.pk}/preview/").status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "stored_type"),
    [
        # No image type at all for SVG: it is text that can carry script.
        ("drawing.svg", SVG_BYTES, "application/octet-stream"),
        ("page.html", HTML_BYTES, "text/html"),
        ("page.htm", HTML_BYTES, "text/html"),
    ],
)
def test_svg_and_html_are_never_rendered(live, alice, settings, name, content, stored_type):
    # Even where an administrator allowed these types.
    settings.ATTACHMENT_ALLOWED_EXTENSIONS = [
        *settings.ATTACHMENT_ALLOWED_EXTENSIONS,
        "svg",
        "html",
        "htm",
    ]
    attachment = stored(live, alice, name, content)
    assert not attachment.is_image
    assert attachment.content_type == stored_type
    client = browser(alice)
    assert client.get(f"/chat/files/{attachment.pk}/preview/").status_code == 404
    response = client.get(f"/chat/files/{attachment.pk}/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert_locked_down(response)


def test_unicode_and_quotes_in_the_download_name(live, alice):
    attachment = stored(live, alice, 'naïve "report".pdf', PDF_BYTES)
    disposition = browser(alice).get(f"/chat/files/{attachment.pk}/")["Content-Disposition"]
    assert 'filename="na_ve _report_.pdf"' in disposition
    assert "filename*=UTF-8''na%C3%AFve%20%22report%22.pdf" in disposition
