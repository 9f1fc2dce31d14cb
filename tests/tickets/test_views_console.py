"""The agent console: the ticket list tabs and every action on a ticket."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.factories import TicketFactory
from tests.tickets.world import World, build_world, snapshot
from tickets import services
from tickets.models import TicketNote, TicketStatus, TimeEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


@pytest.fixture
def agent(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.agent)
    return client


def _url(name: str, world: World) -> str:
    return reverse(f"console:{name}", args=[world.alice_ticket.pk])


def _follow_messages(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


class TestList:
    def test_tabs_default_to_unassigned(self, agent, world):
        services.ticket_assign(ticket=world.carol_ticket, assignee=world.agent, actor=world.agent)
        closed = TicketFactory(contact=world.bob.contact, subject="Old closed one")
        services.ticket_close(ticket=closed, actor=world.agent)

        html = agent.get(reverse("console:tickets")).content.decode()
        for label in ("Unassigned", "Assigned", "Closed"):
            assert f">{label} <span" in html
        assert "Printer prints blank pages" in html
        assert "Shared drive is gone" not in html and "Old closed one" not in html
        # Columns
        for column in ("#", "Subject", "Company", "Contact", "Assignee", "Updated"):
            assert '<th scope="col"' in html and f">{column}</th>" in html

        html = agent.get(reverse("console:tickets"), {"status": "assigned"}).content.decode()
        assert "Shared drive is gone" in html and "Printer prints blank pages" not in html
        assert world.agent.full_name in html and "Globex" in html and world.carol.full_name in html

        html = agent.get(reverse("console:tickets"), {"status": "closed"}).content.decode()
        assert "Old closed one" in html and "Printer prints blank pages" not in html

    def test_unknown_status_falls_back_to_unassigned(self, agent, world):
        response = agent.get(reverse("console:tickets"), {"status": "<script>"})
        assert response.status_code == 200
        assert "Printer prints blank pages" in response.content.decode()
        assert "<script>" not in response.content.decode()

    def test_paginated_by_50(self, agent, world):
        for n in range(55):
            TicketFactory(contact=world.bob.contact, subject=f"Bulk {n:02d}")
        html = agent.get(reverse("console:tickets")).content.decode()
        assert "Page 1 of 2" in html and "Bulk 54" in html and "Printer prints" not in html
        html = agent.get(reverse("console:tickets"), {"page": 2}).content.decode()
        assert "Printer prints blank pages" in html
        assert 'href="?status=unassigned&amp;page=1"' in html


class TestDetail:
    def test_shows_everything_staff_need(self, agent, world):
        services.time_entry_add(
            ticket=world.alice_ticket, agent=world.agent, minutes=25, note="Remote"
        )
        html = agent.get(_url("ticket_detail", world)).content.decode()
        assert "PUBLIC-NOTE-BODY" in html and "INTERNAL-NOTE-BODY" in html
        # The internal note is marked, visually and in words.
        internal = html[html.index(f'id="note-{world.internal_note.pk}"') - 80 :]
        assert "note-internal" in internal[:200]
        assert "secret-notes.txt" in html and "photo.png" in html
        assert "alice@acme.example" in html and "Acme" in html
        assert "25 min" in html and "Remote" in html
        for label in ("Assign", "Assign to me", "Close", "Add note", "Add time"):
            assert f">{label}</button>" in html
        assert ">Reopen</button>" not in html
        assert 'name="is_internal"' in html
        # Assign defaults to me.
        assert f'<option value="{world.agent.pk}" selected>' in html
        # Clients are not offered as assignees.
        assert f'<option value="{world.alice.pk}"' not in html

    def test_closed_ticket_offers_reopen_only(self, agent, world):
        services.ticket_close(ticket=world.alice_ticket, actor=world.agent)
        html = agent.get(_url("ticket_detail", world)).content.decode()
        assert ">Reopen</button>" in html
        assert ">Close</button>" not in html and ">Assign</button>" not in html


class TestActions:
    def test_assign_to_me_then_to_a_colleague(self, agent, world):
        response = agent.post(
            _url("ticket_assign", world), {"assignee": world.agent.pk}, follow=True
        )
        assert response.redirect_chain[-1][0] == _url("ticket_detail", world)
        assert "assigned to you." in response.content.decode()
        world.alice_ticket.refresh_from_db()
        assert world.alice_ticket.status == TicketStatus.ASSIGNED
        assert world.alice_ticket.assignee == world.agent

        response = agent.post(
            _url("ticket_assign", world), {"assignee": world.other_agent.pk}, follow=True
        )
        assert f"assigned to {world.other_agent.full_name}." in response.content.decode()
        world.alice_ticket.refresh_from_db()
        assert world.alice_ticket.assignee == world.other_agent

    @pytest.mark.parametrize("assignee", ["", "abc", "999999", "CLIENT"])
    def test_bad_assignee_is_a_form_error(self, agent, world, assignee):
        if assignee == "CLIENT":
            assignee = str(world.alice.pk)
        before = snapshot()
        response = agent.post(_url("ticket_assign", world), {"assignee": assignee})
        assert response.status_code == 400
        html = response.content.decode()
        assert "field-error" in html
        assert snapshot() == before

    def test_assigning_a_closed_ticket_says_why(self, agent, world):
        services.ticket_close(ticket=world.alice_ticket, actor=world.agent)
        before = snapshot()
        response = agent.post(_url("ticket_assign", world), {"assignee": world.agent.pk})
        assert response.status_code == 400
        assert "Reopen the ticket before assigning it." in response.content.decode()
        assert snapshot() == before

    def test_close_and_reopen(self, agent, world):
        response = agent.post(_url("ticket_close", world), follow=True)
        assert f"Ticket #{world.alice_ticket.pk} closed." in response.content.decode()
        world.alice_ticket.refresh_from_db()
        assert world.alice_ticket.status == TicketStatus.CLOSED
        assert world.alice_ticket.closed_at is not None

        before = snapshot()
        response = agent.post(_url("ticket_close", world), follow=True)
        assert "The ticket is already closed." in response.content.decode()
        assert snapshot() == before

        response = agent.post(_url("ticket_reopen", world), follow=True)
        assert f"Ticket #{world.alice_ticket.pk} reopened." in response.content.decode()
        world.alice_ticket.refresh_from_db()
        assert world.alice_ticket.status == TicketStatus.UNASSIGNED
        assert world.alice_ticket.closed_at is None

        before = snapshot()
        response = agent.post(_url("ticket_reopen", world), follow=True)
        assert "Only a closed ticket can be reopened." in response.content.decode()
        assert snapshot() == before

    def test_reopen_keeps_the_assignee(self, agent, world):
        services.ticket_assign(ticket=world.alice_ticket, assignee=world.agent, actor=world.agent)
        services.ticket_close(ticket=world.alice_ticket, actor=world.agent)
        agent.post(_url("ticket_reopen", world))
        world.alice_ticket.refresh_from_db()
        assert world.alice_ticket.status == TicketStatus.ASSIGNED

    def test_get_never_changes_anything(self, agent, world):
        before = snapshot()
        for name in (
            "ticket_assign",
            "ticket_close",
            "ticket_reopen",
            "note_add",
            "time_entry_add",
        ):
            assert agent.get(_url(name, world)).status_code == 405, name
        assert snapshot() == before

    def test_internal_note_with_file_stays_out_of_the_portal(self, agent, client, world):
        response = agent.post(
            _url("note_add", world),
            {
                "body": "Only for us",
                "is_internal": "on",
                "file": SimpleUploadedFile("password-reset.txt", b"data"),
            },
            follow=True,
        )
        assert "Internal note added." in response.content.decode()
        note = TicketNote.objects.get(body="Only for us")
        assert note.is_internal and note.author == world.agent
        attachment = note.attachments.get()
        assert attachment.is_internal

        portal = Client()
        portal.force_login(world.alice)
        html = portal.get(reverse("portal:ticket_detail", args=[world.alice_ticket.pk])).content
        assert b"Only for us" not in html and b"password-reset.txt" not in html
        file_url = reverse("files:attachment", args=[attachment.pk])
        assert portal.get(file_url).status_code == 404

    def test_public_note(self, agent, world):
        response = agent.post(_url("note_add", world), {"body": "Try again now"}, follow=True)
        assert "Note added." in response.content.decode()
        assert TicketNote.objects.get(body="Try again now").is_internal is False

    def test_empty_note_is_refused(self, agent, world):
        before = snapshot()
        response = agent.post(_url("note_add", world), {"body": "", "is_internal": "on"})
        assert response.status_code == 400
        assert "Write a note or attach a file." in response.content.decode()
        assert snapshot() == before

    def test_time_entry(self, agent, world):
        response = agent.post(
            _url("time_entry_add", world), {"minutes": "30", "note": "Replaced toner"}, follow=True
        )
        assert "30 min logged." in response.content.decode()
        entry = TimeEntry.objects.get()
        assert (entry.minutes, entry.note, entry.agent) == (30, "Replaced toner", world.agent)

    def test_time_entry_form_posted_twice_logs_once(self, agent, world):
        # The page gives its form an id; a double click or a resend of the
        # same page posts it again and finds the entry of the first post.
        html = agent.get(_url("ticket_detail", world)).content.decode()
        match = re.search(r'type="hidden" name="client_id" value="([0-9a-f-]{36})"', html)
        assert match, "the time form carries a hidden client_id"
        form = {"minutes": "15", "note": "Reset password", "client_id": match.group(1)}
        for _ in range(2):
            response = agent.post(_url("time_entry_add", world), form, follow=True)
            assert "15 min logged." in response.content.decode()
        assert TimeEntry.objects.count() == 1
        # The page after the post has a new id: the next entry is a new one.
        assert match.group(1) not in response.content.decode()
        again = re.search(r'name="client_id" value="([0-9a-f-]{36})"', response.content.decode())
        assert again and again.group(1) != match.group(1)

    def test_a_form_sent_again_with_other_values_asks_before_logging_more(self, agent, world):
        # The Back button brings the page with its used id back; new values
        # must not vanish into the first entry.
        form_id = "7d0f8a52-3c1e-4d53-9a51-2a4f1d0c9e11"
        first = {"minutes": "15", "note": "Reset password", "client_id": form_id}
        agent.post(_url("time_entry_add", world), first)
        again = {"minutes": "40", "note": "Printer", "client_id": form_id}
        response = agent.post(_url("time_entry_add", world), again)
        assert response.status_code == 409
        html = response.content.decode()
        assert "This form already logged 15 min. Press Add time again to log 40 min" in html
        assert TimeEntry.objects.count() == 1
        # The values come back under a new id: pressing Add time logs them.
        new_id = re.search(r'name="client_id" value="([0-9a-f-]{36})"', html).group(1)
        assert new_id != form_id and 'value="40"' in html and 'value="Printer"' in html
        response = agent.post(
            _url("time_entry_add", world), {**again, "client_id": new_id}, follow=True
        )
        assert "40 min logged." in response.content.decode()
        assert sorted(TimeEntry.objects.values_list("minutes", flat=True)) == [15, 40]

    def test_time_entry_with_a_bad_form_id_is_refused(self, agent, world):
        before = snapshot()
        response = agent.post(
            _url("time_entry_add", world), {"minutes": "5", "client_id": "not-a-uuid"}
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert "Form id: Enter a valid UUID." in html
        assert snapshot() == before
        # The values come back under a good id: Add time works from here.
        assert re.search(r'name="client_id" value="[0-9a-f-]{36}"', html)
        assert 'value="5"' in html

    def test_a_form_id_of_another_ticket_is_refused_and_replaced(self, agent, world):
        form_id = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
        services.time_entry_add(
            ticket=world.carol_ticket, agent=world.agent, minutes=5, client_id=form_id
        )
        response = agent.post(_url("time_entry_add", world), {"minutes": "7", "client_id": form_id})
        assert response.status_code == 400
        html = response.content.decode()
        assert "This time entry was already logged on another ticket." in html
        new_id = re.search(r'name="client_id" value="([0-9a-f-]{36})"', html).group(1)
        assert new_id != form_id
        response = agent.post(
            _url("time_entry_add", world), {"minutes": "7", "client_id": new_id}, follow=True
        )
        assert "7 min logged." in response.content.decode()
        assert world.alice_ticket.time_entries.get().minutes == 7

    @pytest.mark.parametrize(
        ("minutes", "message"),
        [
            ("", "This field is required."),
            ("abc", "Enter a whole number."),
            ("0", "greater than or equal to 1"),
            ("-5", "greater than or equal to 1"),
            ("1441", "less than or equal to 1440"),
            ("2.5", "Enter a whole number."),
        ],
    )
    def test_bad_minutes_are_a_clear_error(self, agent, world, minutes, message):
        before = snapshot()
        response = agent.post(_url("time_entry_add", world), {"minutes": minutes, "note": "x"})
        assert response.status_code == 400
        assert message in response.content.decode()
        assert snapshot() == before


class TestCsrf:
    def test_post_without_token_is_refused_and_writes_nothing(self, world):
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.agent)
        before = snapshot()
        for name in ("note_add", "ticket_close", "time_entry_add"):
            response = client.post(_url(name, world), {"body": "x", "minutes": "5"})
            assert response.status_code == 403, name
        assert snapshot() == before

    def test_post_with_the_token_from_the_page_works(self, world):
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.agent)
        client.get(_url("ticket_detail", world))
        token = client.cookies["csrftoken"].value
        response = client.post(
            _url("note_add", world), {"body": "With token", "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302
        assert TicketNote.objects.filter(body="With token").exists()

    def test_portal_note_needs_the_token_too(self, world):
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.alice)
        before = snapshot()
        url = reverse("portal:note_add", args=[world.alice_ticket.pk])
        assert client.post(url, {"body": "x"}).status_code == 403
        assert snapshot() == before
