"""The OpenAPI schema and the docs page, which must work without internet."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from tests.api.conftest import World, login


@pytest.mark.django_db
def test_schema_lists_the_ticket_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/tickets/",
        "/api/tickets/{id}/",
        "/api/tickets/{id}/assign/",
        "/api/tickets/{id}/close/",
        "/api/tickets/{id}/reopen/",
        "/api/tickets/{id}/notes/",
    ):
        assert path in paths
    assert set(paths["/api/tickets/"]) == {"get", "post"}
    assert set(paths["/api/tickets/{id}/notes/"]) == {"get", "post"}


def test_schema_generates_without_warnings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same check as `manage.py spectacular --validate --fail-on-warn`."""
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/tickets/{id}/notes/" in out.read_text()


def test_docs_page_loads_its_assets_from_our_own_static_files(world: World) -> None:
    response = login(world.agent).get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "no assets found in the docs page"
    for url in sources:
        # No CDN: every asset is one of ours, and it exists.
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not in the static files"
    assert "swagger-ui-bundle.js" in html
