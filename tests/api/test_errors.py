"""config.api.exception_handler: every error is {"code", "detail"}."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions

from config.api import domain_error_status, exception_handler
from tickets.errors import DomainError, TicketError


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (TicketError("Nope."), 400),
        (TicketError("Closed.", code="ticket_closed"), 409),
        (TicketError("Not yours.", code="forbidden"), 403),
        (DomainError("Gone.", code="not_found"), 404),
    ],
)
def test_domain_errors(error: DomainError, status: int) -> None:
    response = exception_handler(error, {})
    assert response is not None
    assert response.status_code == status
    assert response.data == {"code": error.code, "detail": error.message}


def test_an_error_class_may_carry_its_own_status() -> None:
    class Busy(DomainError):
        code = "busy"
        http_status = 503

    assert domain_error_status(Busy("Later.")) == 503


def test_django_404_says_nothing_about_the_lookup() -> None:
    response = exception_handler(Http404("No Ticket matches the given query."), {})
    assert response is not None
    assert response.status_code == 404
    assert response.data == {"code": "not_found", "detail": "Not found."}


def test_django_permission_denied() -> None:
    response = exception_handler(PermissionDenied("No."), {})
    assert response is not None
    assert (response.status_code, response.data["code"]) == (403, "permission_denied")


def test_nested_validation_errors_keep_every_message() -> None:
    error = exceptions.ValidationError({"files": {0: ["Bad file."]}, "subject": ["Required."]})
    response = exception_handler(error, {})
    assert response is not None
    assert response.status_code == 400
    assert response.data["detail"] == "Bad file."
    assert response.data["fields"] == {"files": {0: ["Bad file."]}, "subject": ["Required."]}


def test_list_validation_error() -> None:
    response = exception_handler(exceptions.ValidationError("Bad."), {})
    assert response is not None
    assert response.data == {
        "code": "invalid",
        "detail": "Bad.",
        "fields": {"non_field_errors": ["Bad."]},
    }


def test_throttled_keeps_retry_after() -> None:
    response = exception_handler(exceptions.Throttled(wait=12), {})
    assert response is not None
    assert response.status_code == 429
    assert response["Retry-After"] == "12"
    assert response.data["code"] == "throttled"


def test_a_bug_is_left_to_django() -> None:
    assert exception_handler(ZeroDivisionError(), {}) is None


def test_anonymous_gets_json(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/tickets/")
    assert response.status_code == 403
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
