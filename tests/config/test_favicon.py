"""Every page has an icon: the pages link the SVG icon, and /favicon.ico, which
browsers ask for on pages that link none (the API's browsable pages, a bare
error), redirects to it instead of answering 404 on every visit."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import User
from tests.factories import AgentFactory, client_user

pytestmark = pytest.mark.django_db

ICON_LINK = re.compile(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">')


@pytest.fixture(autouse=True)
def _static_files_from_the_source(settings: Settings) -> None:
    # WhiteNoise serves the static folders as they are, not var/staticfiles
    # (collected by the last `make run`, if any).
    settings.WHITENOISE_USE_FINDERS = True


def fetch_icon(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "image/svg+xml"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"<svg")
    return body


def icon_of(client: Client, url: str, status: int = 200) -> bytes:
    """The icon the page at ``url`` links, fetched."""
    response = client.get(url)
    assert response.status_code == status, url
    [href] = ICON_LINK.findall(response.content.decode())
    return fetch_icon(client, href)


def test_favicon_ico_redirects_for_good_to_the_icon(client: Client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"
    fetch_icon(client, response["Location"])


def test_anonymous_pages_link_the_icon(client: Client) -> None:
    icon = fetch_icon(client, "/static/favicon.svg")
    assert icon_of(client, "/accounts/login/") == icon
    assert icon_of(client, "/admin/login/") == icon
    assert icon_of(client, "/no-such-page/", status=404) == icon


def test_portal_console_and_admin_pages_link_the_icon(client: Client) -> None:
    icon = fetch_icon(client, "/static/favicon.svg")
    client.force_login(client_user())
    assert icon_of(client, "/portal/") == icon
    client.force_login(AgentFactory())
    assert icon_of(client, "/console/") == icon
    client.force_login(User.objects.create_superuser("root@example.com", "switchboard"))
    assert icon_of(client, "/admin/") == icon


def test_the_server_error_page_links_the_icon() -> None:
    assert ICON_LINK.search(render_to_string("500.html"))
