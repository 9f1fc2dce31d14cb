"""Who may open which page. Every portal, console and file URL is tried as
anonymous, a client of Acme (owner), another client of Acme, a client of
Globex and an agent; refused requests must change nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.tickets.world import World, build_world, snapshot

pytestmark = pytest.mark.django_db

MISSING_ID = 999_999


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


@dataclass(frozen=True)
class Route:
    """One page or action. ``data`` is valid input, so a refusal can only come
    from the access check."""

    name: str
    method: str
    url_name: str
    data: dict[str, str] = field(default_factory=dict)
    on_ticket: bool = False

    @property
    def area(self) -> str:
        return self.url_name.split(":")[0]

    def __str__(self) -> str:
        return self.name


ROUTES = [
    Route("portal_home", "get", "portal:home"),
    Route("portal_create_form", "get", "portal:ticket_create"),
    Route("portal_create", "post", "portal:ticket_create", {"subject": "New", "description": ""}),
    Route("portal_detail", "get", "portal:ticket_detail", on_ticket=True),
    Route("portal_note", "post", "portal:note_add", {"body": "hello"}, on_ticket=True),
    Route("console_list", "get", "console:tickets"),
    Route("console_detail", "get", "console:ticket_detail", on_ticket=True),
    Route(
        "console_note",
        "post",
        "console:note_add",
        {"body": "hello", "is_internal": "on"},
        on_ticket=True,
    ),
    Route("console_assign", "post", "console:ticket_assign", {"assignee": "AGENT"}, on_ticket=True),
    Route("console_close", "post", "console:ticket_close", on_ticket=True),
    Route("console_reopen", "post", "console:ticket_reopen", on_ticket=True),
    Route("console_time", "post", "console:time_entry_add", {"minutes": "10"}, on_ticket=True),
]
PORTAL = [r for r in ROUTES if r.area == "portal"]
CONSOLE = [r for r in ROUTES if r.area == "console"]
PORTAL_TICKET = [r for r in PORTAL if r.on_ticket]
CONSOLE_TICKET = [r for r in CONSOLE if r.on_ticket]


def _request(client: Client, w: World, route: Route, ticket_id: int | None = None):  # type: ignore[no-untyped-def]
    args = [ticket_id if ticket_id is not None else w.alice_ticket.pk] if route.on_ticket else []
    data = {k: str(w.agent.pk) if v == "AGENT" else v for k, v in route.data.items()}
    return getattr(client, route.method)(reverse(route.url_name, args=args), data)


def _login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_anonymous_is_sent_to_login_and_nothing_changes(client, world, route):
    before = snapshot()
    response = _request(client, world, route)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    assert snapshot() == before


@pytest.mark.parametrize("route", CONSOLE, ids=str)
def test_clients_get_403_in_the_console(client, world, route):
    _login(client, world.alice)
    before = snapshot()
    response = _request(client, world, route)
    assert response.status_code == 403
    assert b"The console is for helpdesk staff." in response.content
    assert snapshot() == before


@pytest.mark.parametrize("route", PORTAL, ids=str)
def test_staff_get_403_in_the_portal(client, world, route):
    _login(client, world.agent)
    before = snapshot()
    response = _request(client, world, route)
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("who", ["bob", "carol"])
@pytest.mark.parametrize("route", PORTAL_TICKET, ids=str)
def test_other_clients_get_404_on_alices_ticket(client, world, route, who):
    """Bob works at Alice's company but is another contact; Carol is at Globex."""
    _login(client, getattr(world, who))
    before = snapshot()
    response = _request(client, world, route)
    assert response.status_code == 404
    assert b"Printer prints blank pages" not in response.content
    assert b"PUBLIC-NOTE-BODY" not in response.content
    assert snapshot() == before


@pytest.mark.parametrize("route", PORTAL_TICKET, ids=str)
def test_guessed_ticket_ids_are_404_for_clients(client, world, route):
    _login(client, world.alice)
    before = snapshot()
    for ticket_id in (MISSING_ID, world.carol_ticket.pk, world.alice_ticket.pk + 1000):
        assert _request(client, world, route, ticket_id).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("route", CONSOLE_TICKET, ids=str)
def test_missing_ticket_ids_are_404_for_staff(client, world, route):
    _login(client, world.agent)
    before = snapshot()
    assert _request(client, world, route, MISSING_ID).status_code == 404
    assert snapshot() == before


def test_owner_and_staff_reach_their_pages(client, world):
    portal_pages = [route for route in PORTAL if route.method == "get"]
    console_pages = [route for route in CONSOLE if route.method == "get"]
    assert portal_pages and console_pages
    _login(client, world.alice)
    for route in portal_pages:
        assert _request(client, world, route).status_code == 200, route
    client.logout()
    _login(client, world.agent)
    for route in console_pages:
        assert _request(client, world, route).status_code == 200, route


class TestFiles:
    def _get(self, client: Client, attachment_id: int):  # type: ignore[no-untyped-def]
        return client.get(reverse("files:attachment", args=[attachment_id]))

    def test_anonymous_is_sent_to_login(self, client, world):
        response = self._get(client, world.public_file.pk)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_owner_gets_public_file_but_not_internal(self, client, world):
        _login(client, world.alice)
        response = self._get(client, world.public_file.pk)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"public bytes"
        assert self._get(client, world.internal_file.pk).status_code == 404

    @pytest.mark.parametrize("who", ["bob", "carol"])
    def test_other_clients_get_404(self, client, world, who):
        _login(client, getattr(world, who))
        for attachment in (world.public_file, world.internal_file):
            assert self._get(client, attachment.pk).status_code == 404

    def test_guessed_ids_are_404(self, client, world):
        _login(client, world.alice)
        assert self._get(client, world.carol_file.pk).status_code == 404
        assert self._get(client, MISSING_ID).status_code == 404

    def test_staff_get_every_file(self, client, world):
        _login(client, world.agent)
        for attachment in (world.public_file, world.internal_file, world.carol_file):
            assert self._get(client, attachment.pk).status_code == 200

    def test_post_is_not_allowed(self, client, world):
        _login(client, world.agent)
        response = client.post(reverse("files:attachment", args=[world.public_file.pk]))
        assert response.status_code == 405
