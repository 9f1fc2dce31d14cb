"""Who may call what: every endpoint against anonymous, the owning client of
Acme, another client of Acme, a client of Globex and an agent. A refusal
changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World, login
from tickets.models import Ticket, TicketAttachment, TicketNote

ACTORS = ["anonymous", "alice", "bob", "carol", "agent"]

# (name, method, path template, body) — {ticket} is alice's open Acme ticket,
# {closed} her closed one.
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "list": ("get", "/api/tickets/", None),
    "create": ("post", "/api/tickets/", {"subject": "New", "company": "{acme}"}),
    "retrieve": ("get", "/api/tickets/{ticket}/", None),
    "assign": ("post", "/api/tickets/{ticket}/assign/", {"assignee": "{agent}"}),
    "close": ("post", "/api/tickets/{ticket}/close/", None),
    "reopen": ("post", "/api/tickets/{closed}/reopen/", None),
    "notes_list": ("get", "/api/tickets/{ticket}/notes/", None),
    "notes_create": ("post", "/api/tickets/{ticket}/notes/", {"body": "Hello"}),
}

# Expected status per endpoint, in ACTORS order.
EXPECTED: dict[str, list[int]] = {
    "list": [403, 200, 200, 200, 200],
    "create": [403, 201, 201, 201, 201],
    "retrieve": [403, 200, 404, 404, 200],
    "assign": [403, 403, 403, 403, 200],
    "close": [403, 403, 403, 403, 200],
    "reopen": [403, 403, 403, 403, 200],
    "notes_list": [403, 200, 404, 404, 200],
    "notes_create": [403, 201, 404, 404, 201],
}

CODES = {403: {"not_authenticated", "staff_only"}, 404: {"not_found"}}


def _fill(value: Any, world: World) -> Any:
    ids = {
        "{acme}": world.acme.pk,
        "{agent}": world.agent.pk,
        "{ticket}": world.acme_ticket.pk,
        "{closed}": world.closed_ticket.pk,
    }
    if isinstance(value, dict):
        return {key: _fill(item, world) for key, item in value.items()}
    if isinstance(value, str):
        for placeholder, pk in ids.items():
            if value == placeholder:
                return pk
            value = value.replace(placeholder, str(pk))
    return value


def snapshot() -> tuple[Any, ...]:
    """Everything an endpoint could write."""
    return (
        sorted(
            Ticket.objects.values_list("pk", "status", "assignee_id", "closed_at", "updated_at")
        ),
        sorted(TicketNote.objects.values_list("pk", "is_internal", "body")),
        TicketAttachment.objects.count(),
    )


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("actor", ACTORS)
def test_permission_matrix(world: World, endpoint: str, actor: str) -> None:
    method, path, body = ENDPOINTS[endpoint]
    expected = EXPECTED[endpoint][ACTORS.index(actor)]
    user = None if actor == "anonymous" else getattr(world, actor)
    before = snapshot()

    response = getattr(login(user), method)(_fill(path, world), _fill(body, world), format="json")

    assert response.status_code == expected, response.content
    assert response["Content-Type"] == "application/json"
    if expected >= 400:
        payload = response.json()
        assert payload["code"] in CODES[expected]
        assert payload["detail"]
        assert snapshot() == before, "a refused request changed something"
    elif method == "get":
        assert snapshot() == before


@pytest.mark.parametrize("actor", ["alice", "bob", "carol", "agent"])
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("get", "notes/", None),
        ("post", "notes/", {"body": "guess"}),
    ],
)
def test_guessed_ids_are_404_and_change_nothing(
    world: World, actor: str, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    client = login(getattr(world, actor))
    guesses: list[int | str] = [0, 999_999, "abc", "-1"]
    # A real ticket of someone else is indistinguishable from a missing one.
    if actor in ("alice", "bob"):
        guesses.append(world.globex_ticket.pk)
    if actor in ("bob", "carol"):
        guesses.append(world.acme_ticket.pk)
    before = snapshot()
    for ticket_id in guesses:
        path = f"/api/tickets/{ticket_id}/{suffix}"
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 404, (ticket_id, response.content)
        assert response.json() == {"code": "not_found", "detail": "Not found."}
    assert snapshot() == before


def test_client_gets_the_same_403_for_staff_actions_on_any_id(world: World) -> None:
    """A staff-only action says nothing about whether the ticket exists."""
    client = login(world.carol)
    before = snapshot()
    bodies = []
    for ticket_id in (world.acme_ticket.pk, world.globex_ticket.pk, 999_999):
        for action in ("assign", "close", "reopen"):
            response = client.post(
                f"/api/tickets/{ticket_id}/{action}/", {"assignee": world.agent.pk}, format="json"
            )
            assert response.status_code == 403
            bodies.append(response.json())
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["code"] == "staff_only"
    assert snapshot() == before


def test_clients_list_only_their_own_contacts_tickets(world: World) -> None:
    ids = {
        name: {t["id"] for t in login(getattr(world, name)).get("/api/tickets/").json()["results"]}
        for name in ("alice", "bob", "carol", "agent")
    }
    assert ids["alice"] == {world.acme_ticket.pk, world.closed_ticket.pk}
    assert ids["bob"] == set()
    assert ids["carol"] == {world.globex_ticket.pk}
    assert ids["agent"] == {world.acme_ticket.pk, world.globex_ticket.pk, world.closed_ticket.pk}


def test_client_without_contact_sees_nothing_and_cannot_create(world: World) -> None:
    from tests.factories import UserFactory

    orphan = UserFactory(email="orphan@example.com")
    client = login(orphan)
    assert client.get("/api/tickets/").json()["results"] == []
    assert client.get(f"/api/tickets/{world.acme_ticket.pk}/").status_code == 404
    before = snapshot()
    response = client.post("/api/tickets/", {"subject": "Help"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "no_contact"
    assert snapshot() == before


def test_inactive_user_is_refused(world: World) -> None:
    client = login(world.alice)
    world.alice.is_active = False
    world.alice.save()
    response = client.get("/api/tickets/")
    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_csrf_is_enforced_for_session_writes(world: World) -> None:
    client = login(world.agent, csrf=True)
    before = snapshot()
    response = client.post(f"/api/tickets/{world.acme_ticket.pk}/close/")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert snapshot() == before
    # Reads need no token.
    assert client.get("/api/tickets/").status_code == 200
