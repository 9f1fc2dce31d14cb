"""How attachments are served: always as a download, never sniffed or
rendered, never cached by shared caches."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from tests.factories import TicketFactory
from tests.personas import AGENT1, ALICE
from tickets.models import TicketAttachment
from tickets.views_files import content_disposition, safe_content_type

pytestmark = pytest.mark.django_db


def _attachment(ticket, name: str, content_type: str, data: bytes = b"data") -> TicketAttachment:  # type: ignore[no-untyped-def]
    attachment = TicketAttachment(
        ticket=ticket, original_name=name, content_type=content_type, size=len(data)
    )
    attachment.file.save(name, ContentFile(data), save=False)
    attachment.save()
    return attachment


@pytest.fixture
def ticket(db):  # type: ignore[no-untyped-def]
    return TicketFactory()


@pytest.fixture
def staff(client):  # type: ignore[no-untyped-def]
    client.force_login(AGENT1.create())
    return client


def _get(client, attachment: TicketAttachment):  # type: ignore[no-untyped-def]
    return client.get(reverse("files:attachment", args=[attachment.pk]))


def test_headers(staff, ticket):
    response = _get(staff, _attachment(ticket, "report.pdf", "application/pdf", b"%PDF-1"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert response["Content-Length"] == "6"
    assert b"".join(response.streaming_content) == b"%PDF-1"


@pytest.mark.parametrize(
    "stored",
    ["text/html", "image/svg+xml", "application/xhtml+xml", "text/html; charset=utf-8", ""],
)
def test_active_content_is_never_served_as_itself(staff, ticket, stored):
    response = _get(staff, _attachment(ticket, "page.html", stored))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]


def test_non_ascii_and_quotes_in_names(staff, ticket):
    response = _get(staff, _attachment(ticket, 'résumé "final".pdf', "application/pdf"))
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="r_sum_ _final_.pdf"; ')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf" in disposition
    assert "\n" not in disposition and "\r" not in disposition


def test_missing_file_on_disk_is_404(staff, ticket):
    attachment = _attachment(ticket, "gone.txt", "text/plain")
    attachment.file.storage.delete(attachment.file.name)
    assert _get(staff, attachment).status_code == 404


def test_client_of_the_ticket_gets_the_file(client, db):
    owner = ALICE.create()
    ticket = TicketFactory(contact=owner.contact)
    attachment = _attachment(ticket, "a.txt", "text/plain", b"hello")
    client.force_login(owner)
    response = _get(client, attachment)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"


@pytest.mark.parametrize(
    ("stored", "served"),
    [
        ("image/png", "image/png"),
        ("IMAGE/PNG", "image/png"),
        ("text/xml", "application/octet-stream"),
        ("nonsense", "application/octet-stream"),
    ],
)
def test_safe_content_type(stored, served):
    assert safe_content_type(stored) == served


def test_content_disposition_header_injection():
    header = content_disposition("a\r\nSet-Cookie: x=1.txt")
    assert "\r" not in header and "\n" not in header
