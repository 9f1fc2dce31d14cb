"""/healthz: 200 when the database and Redis answer, 503 otherwise."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthy(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_needs_no_login_and_allows_head(client) -> None:  # type: ignore[no-untyped-def]
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.parametrize(
    "url",
    [
        "unix:///nonexistent/switchboard/dead.sock",
        "redis://127.0.0.1:1/0",  # nothing listens on port 1
    ],
)
def test_redis_down_is_503(client, url: str) -> None:  # type: ignore[no-untyped-def]
    with override_settings(REDIS_URL=url):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error: ")
    # The failure is named, the address is not (healthz is public).
    assert "dead.sock" not in response.content.decode()
    assert "127.0.0.1" not in response.content.decode()


def test_database_down_is_503(client) -> None:  # type: ignore[no-untyped-def]
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError("could not connect to server")
    with mock.patch("config.views.connection", broken):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "error: OperationalError",
        "redis": "ok",
    }
