"""Everyone reads dates and times in one format, in their own time zone: a
setting of each user (empty: the helpdesk's TIME_ZONE), chosen on the Your
settings page or in Django admin, active on every page they open."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.time_zones import format_in, zone_name_of
from tests.factories import NoteFactory, TicketFactory
from tests.personas import AGENT1, ALICE

pytestmark = pytest.mark.django_db

# 14:02 UTC on 7 December 2025: 09:02 in New York, 15:02 in Berlin.
AT = datetime(2025, 12, 7, 14, 2, tzinfo=UTC)


def _note_at(user: User, at: datetime) -> None:
    ticket = TicketFactory(contact=user.contact, subject="Printer prints blank pages")
    note = NoteFactory(ticket=ticket, author=user, body="Still blank")
    type(note).objects.filter(pk=note.pk).update(created_at=at)


def _ticket_page(client: Client, user: User) -> str:
    ticket = user.contact.tickets.get()
    return client.get(reverse("portal:ticket_detail", args=[ticket.pk])).content.decode()


def test_a_page_shows_times_in_the_readers_own_zone(client: Client) -> None:
    alice = ALICE.create(time_zone="America/New_York")
    _note_at(alice, AT)
    client.force_login(alice)
    html = _ticket_page(client, alice)
    assert ">7 Dec 2025, 09:02</time>" in html
    # The browser formats the socket's times in the same zone (format.js).
    assert 'data-time-zone="America/New_York"' in html


def test_without_a_zone_of_its_own_the_helpdesks_is_used(client: Client, settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    alice = ALICE.create()
    _note_at(alice, AT)
    client.force_login(alice)
    html = _ticket_page(client, alice)
    assert ">7 Dec 2025, 15:02</time>" in html
    assert 'data-time-zone="Europe/Berlin"' in html


def test_format_in_writes_for_one_person_outside_a_request() -> None:
    alice = ALICE.create(time_zone="Asia/Tokyo")
    assert format_in(AT, alice) == "7 Dec 2025, 23:02"
    assert format_in(AT, alice, "DATE_FORMAT") == "7 Dec 2025"
    assert format_in(AT, alice, "TIME_FORMAT") == "23:02"


def test_a_zone_that_no_longer_exists_falls_back_to_the_helpdesks(settings) -> None:
    settings.TIME_ZONE = "Europe/London"
    alice = ALICE.create()
    User.objects.filter(pk=alice.pk).update(time_zone="Mars/Olympus_Mons")
    alice.refresh_from_db()
    assert zone_name_of(alice) == "Europe/London"


class TestYourSettings:
    def test_the_header_links_to_it(self, client: Client) -> None:
        client.force_login(AGENT1.create())
        html = client.get(reverse("console:tickets")).content.decode()
        assert f'href="{reverse("accounts:settings")}"' in html

    def test_a_client_chooses_its_zone(self, client: Client) -> None:
        alice = ALICE.create()
        client.force_login(alice)
        page = client.get(reverse("accounts:settings"))
        assert page.status_code == 200
        html = page.content.decode()
        assert "Your settings" in html and "Time zone" in html
        assert '<option value="Europe/Berlin">Europe/Berlin</option>' in html
        response = client.post(reverse("accounts:settings"), {"time_zone": "Europe/Berlin"})
        assert response.status_code == 302
        alice.refresh_from_db()
        assert alice.time_zone == "Europe/Berlin"
        # The next page is in the new zone, and says the change was saved.
        followed = client.get(response["Location"]).content.decode()
        assert "Your settings are saved" in followed
        assert 'data-time-zone="Europe/Berlin"' in followed

    def test_staff_get_it_in_the_console(self, client: Client) -> None:
        client.force_login(AGENT1.create())
        html = client.get(reverse("accounts:settings")).content.decode()
        assert "area-console" in html

    def test_back_to_the_helpdesks_zone(self, client: Client) -> None:
        alice = ALICE.create(time_zone="Asia/Tokyo")
        client.force_login(alice)
        client.post(reverse("accounts:settings"), {"time_zone": ""})
        alice.refresh_from_db()
        assert alice.time_zone == ""

    def test_a_zone_that_is_not_one_is_refused_and_nothing_is_saved(self, client: Client) -> None:
        alice = ALICE.create(time_zone="Asia/Tokyo")
        client.force_login(alice)
        response = client.post(reverse("accounts:settings"), {"time_zone": "Mars/Olympus_Mons"})
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
        alice.refresh_from_db()
        assert alice.time_zone == "Asia/Tokyo"

    def test_anonymous_visitors_log_in_first(self, client: Client) -> None:
        response = client.get(reverse("accounts:settings"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_admin_edits_a_users_zone(client: Client) -> None:
    root = User.objects.create_superuser("root@example.com", "switchboard", full_name="Root")
    alice = ALICE.create()
    client.force_login(root)
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    html = client.get(url).content.decode()
    assert 'name="time_zone"' in html
