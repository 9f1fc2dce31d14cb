"""Bad input is a 400 (or 409 for a move the state does not allow) with a
stable code, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World, login
from tests.api.test_permissions import snapshot


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/tickets/", {}, 400, "required"),
        ("/api/tickets/", {"subject": ""}, 400, "blank"),
        ("/api/tickets/", {"subject": "   "}, 400, "blank"),
        ("/api/tickets/", {"subject": "x" * 201}, 400, "max_length"),
        ("/api/tickets/", {"subject": "Hi", "company": 999_999}, 400, "does_not_exist"),
        ("/api/tickets/", {"subject": "Hi", "company": "acme"}, 400, "incorrect_type"),
        (
            "/api/tickets/",
            {"subject": "Hi", "company": "{acme}", "contact": 999_999},
            400,
            "does_not_exist",
        ),
        ("/api/tickets/{ticket}/assign/", {}, 400, "required"),
        ("/api/tickets/{ticket}/assign/", {"assignee": "{alice}"}, 400, "does_not_exist"),
        ("/api/tickets/{ticket}/assign/", {"assignee": 999_999}, 400, "does_not_exist"),
        ("/api/tickets/{closed}/assign/", {"assignee": "{agent}"}, 409, "ticket_closed"),
        ("/api/tickets/{closed}/close/", None, 409, "ticket_closed"),
        ("/api/tickets/{ticket}/reopen/", None, 409, "ticket_not_closed"),
        ("/api/tickets/{ticket}/notes/", {}, 400, "note_empty"),
        ("/api/tickets/{ticket}/notes/", {"body": "  "}, 400, "note_empty"),
        ("/api/tickets/{ticket}/notes/", {"body": "x", "is_internal": "maybe"}, 400, "invalid"),
    ],
)
def test_bad_input_as_staff(
    world: World, path: str, body: dict[str, Any] | None, status: int, code: str
) -> None:
    ids = {
        "{ticket}": world.acme_ticket.pk,
        "{closed}": world.closed_ticket.pk,
        "{acme}": world.acme.pk,
        "{alice}": world.alice.pk,
        "{agent}": world.agent.pk,
    }
    for placeholder, pk in ids.items():
        path = path.replace(placeholder, str(pk))
    if body:
        body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = snapshot()

    response = login(world.agent).post(path, body, format="json")

    assert response.status_code == status, response.content
    payload = response.json()
    assert payload["code"] == code
    assert isinstance(payload["detail"], str) and payload["detail"]
    assert snapshot() == before


def test_malformed_json_is_a_parse_error(world: World) -> None:
    before = snapshot()
    response = login(world.alice).post(
        "/api/tickets/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert snapshot() == before


def test_unsupported_media_type(world: World) -> None:
    response = login(world.alice).post("/api/tickets/", data="subject", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_wrong_method_is_json_405(world: World) -> None:
    response = login(world.agent).delete(f"/api/tickets/{world.acme_ticket.pk}/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_validation_error_lists_every_field(world: World) -> None:
    response = login(world.agent).post(
        "/api/tickets/", {"subject": "", "company": 999_999}, format="json"
    )
    payload = response.json()
    assert set(payload["fields"]) == {"subject", "company"}
    assert payload["fields"]["company"] == ['Invalid pk "999999" - object does not exist.']
