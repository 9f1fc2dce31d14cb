"""The client portal: my tickets, one ticket, new ticket, add a note, uploads."""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import TicketFactory
from tests.personas import ALICE
from tests.tickets.world import World, build_world, snapshot
from tickets.models import Ticket, TicketAttachment, TicketNote, private_storage

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


@pytest.fixture
def alice(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.alice)
    return client


def _stored_files() -> list[str]:
    root = private_storage.path("")
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


class TestHome:
    def test_lists_only_my_tickets_newest_first(self, alice, world):
        newer = TicketFactory(contact=world.alice.contact, subject="Newer ticket")
        TicketFactory(contact=world.bob.contact, subject="Bob's own ticket")
        html = alice.get(reverse("portal:home")).content.decode()
        assert html.index("Newer ticket") < html.index("Printer prints blank pages")
        assert "Bob&#x27;s own ticket" not in html and "Bob's own ticket" not in html
        assert "Shared drive is gone" not in html
        assert f'href="{reverse("portal:ticket_detail", args=[newer.pk])}"' in html
        assert 'class="badge badge-unassigned"' in html
        assert ">New ticket</a>" in html

    def test_empty_state(self, client):
        client.force_login(ALICE.create())
        html = client.get(reverse("portal:home")).content.decode()
        assert "You have no tickets yet." in html

    def test_login_without_contact_is_told_why(self, client):
        from tests.factories import UserFactory

        client.force_login(UserFactory())
        html = client.get(reverse("portal:home")).content.decode()
        assert "not linked to a company" in html
        response = client.get(reverse("portal:ticket_create"), follow=True)
        assert response.redirect_chain[-1][0] == reverse("portal:home")


class TestDetail:
    def test_shows_public_notes_and_files_never_internal_ones(self, alice, world):
        html = alice.get(reverse("portal:ticket_detail", args=[world.alice_ticket.pk])).content
        html = html.decode()
        assert "Printer prints blank pages" in html
        assert "PUBLIC-NOTE-BODY" in html
        assert reverse("files:attachment", args=[world.public_file.pk]) in html
        assert "photo.png" in html
        # Nothing of the internal note: body, file name, link, or the count.
        assert "INTERNAL-NOTE-BODY" not in html
        assert "secret-notes.txt" not in html
        assert reverse("files:attachment", args=[world.internal_file.pk]) not in html
        assert 'aria-hidden="true">1</span>' in html  # Notes tab counts public notes only

    def test_has_the_tab_bar_and_the_chat_hook(self, alice, world):
        html = alice.get(reverse("portal:ticket_detail", args=[world.alice_ticket.pk])).content
        html = html.decode()
        assert 'role="tablist"' in html and 'id="tab-notes"' in html
        assert f'id="ticket-actions" data-ticket-id="{world.alice_ticket.pk}"' in html
        assert ">Add note</button>" in html


class TestCreate:
    url = "/portal/tickets/new/"

    def test_creates_a_ticket_for_my_contact(self, alice, world):
        response = alice.post(
            self.url,
            {
                "subject": "  Wifi is slow ",
                "description": "Since Monday.",
                "file": SimpleUploadedFile("speedtest.png", b"\x89PNG data", "image/png"),
            },
            follow=True,
        )
        ticket = Ticket.objects.get(subject="Wifi is slow")
        assert response.redirect_chain[-1][0] == reverse("portal:ticket_detail", args=[ticket.pk])
        assert ticket.contact == world.alice.contact and ticket.company == world.acme
        assert ticket.status == "unassigned"
        attachment = ticket.attachments.get()
        assert attachment.original_name == "speedtest.png" and attachment.note is None
        html = response.content.decode()
        assert f"Ticket #{ticket.pk} created." in html
        assert "speedtest.png" in html

    def test_subject_is_required(self, alice):
        before = snapshot()
        response = alice.post(self.url, {"subject": "   ", "description": "x"})
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        assert snapshot() == before

    def test_cannot_choose_another_company_or_contact(self, alice, world):
        alice.post(
            self.url,
            {"subject": "Sneaky", "company": world.globex.pk, "contact": world.carol.contact.pk},
        )
        ticket = Ticket.objects.get(subject="Sneaky")
        assert ticket.company == world.acme and ticket.contact == world.alice.contact


class TestNote:
    def _url(self, world: World) -> str:
        return reverse("portal:note_add", args=[world.alice_ticket.pk])

    def test_adds_a_public_note_even_if_internal_is_posted(self, alice, world):
        response = alice.post(self._url(world), {"body": "Still broken", "is_internal": "on"})
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:ticket_detail", args=[world.alice_ticket.pk])
        note = TicketNote.objects.get(body="Still broken")
        assert note.author == world.alice and note.is_internal is False

    def test_empty_note_is_refused_with_a_message(self, alice, world):
        before = snapshot()
        response = alice.post(self._url(world), {"body": "  "})
        assert response.status_code == 400
        assert "Write a note or attach a file." in response.content.decode()
        assert snapshot() == before

    def test_too_long_note_is_refused(self, alice, world):
        before = snapshot()
        response = alice.post(self._url(world), {"body": "x" * 20_001})
        assert response.status_code == 400
        assert "Ensure this value has at most 20000 characters" in response.content.decode()
        assert snapshot() == before

    def test_a_file_alone_is_a_note(self, alice, world):
        alice.post(self._url(world), {"body": "", "file": SimpleUploadedFile("log.txt", b"x")})
        note = TicketNote.objects.latest("pk")
        assert note.body == "" and note.attachments.get().original_name == "log.txt"


class TestUploadLimits:
    """Too big or a refused type: a clear error by the field, nothing stored
    (no row, no file on disk)."""

    @pytest.fixture(autouse=True)
    def _small_limit(self, settings):  # type: ignore[no-untyped-def]
        settings.ATTACHMENT_MAX_BYTES = 1024

    @pytest.mark.parametrize(
        ("name", "size", "message"),
        [
            ("big.pdf", 1025, "larger than the"),
            ("run.exe", 10, "Files of type .exe are not accepted."),
            ("page.html", 10, "Files of type .html are not accepted."),
            ("image.svg", 10, "Files of type .svg are not accepted."),
            ("noextension", 10, "Files of type .(none) are not accepted."),
        ],
    )
    def test_note_upload_refused(self, alice, world, name, size, message):
        before, files_before = snapshot(), _stored_files()
        response = alice.post(
            reverse("portal:note_add", args=[world.alice_ticket.pk]),
            {"body": "see file", "file": SimpleUploadedFile(name, b"x" * size)},
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert message in html
        assert 'class="field-error"' in html
        assert snapshot() == before
        assert _stored_files() == files_before

    def test_new_ticket_with_a_big_file_creates_nothing(self, alice):
        before, files_before = snapshot(), _stored_files()
        response = alice.post(
            "/portal/tickets/new/",
            {"subject": "With file", "file": SimpleUploadedFile("big.zip", b"x" * 2048)},
        )
        assert response.status_code == 400
        assert "larger than the" in response.content.decode()
        assert snapshot() == before
        assert _stored_files() == files_before
        assert not TicketAttachment.objects.filter(original_name="big.zip").exists()

    def test_exactly_at_the_limit_is_accepted(self, alice, world):
        response = alice.post(
            reverse("portal:note_add", args=[world.alice_ticket.pk]),
            {"body": "", "file": SimpleUploadedFile("ok.pdf", b"x" * 1024)},
        )
        assert response.status_code == 302
