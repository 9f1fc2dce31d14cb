"""Which pages may open /ws/: only those of the site itself (scheme, host and
port as the browser asked for them) or of an origin in CSRF_TRUSTED_ORIGINS.
Browsers send the session cookie with any page's websocket handshake, so a
page on another port of the same host must be refused like any other site."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from presence.models import AgentConnection
from tests.factories import AgentFactory
from tests.realtime.conftest import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

Handshake = Callable[..., Awaitable[bool]]


@pytest.fixture
async def handshake(caplog: pytest.LogCaptureFixture) -> AsyncIterator[Handshake]:
    """``await handshake(host=..., origin=..., ...)``: does a logged-in agent's
    socket with these headers open? Each is closed again; nothing may be
    logged at ERROR."""
    from config.asgi import application

    agent = await sync_to_async(AgentFactory)()
    cookie = await sync_to_async(session_cookie)(agent)
    caplog.set_level(logging.INFO)

    async def _handshake(
        *, host: str | None, origin: str | None, scheme: str | None = None, **headers: str
    ) -> bool:
        sent = [(b"cookie", cookie)]
        sent += [(b"host", host.encode())] if host is not None else []
        sent += [(b"origin", origin.encode())] if origin is not None else []
        sent += [
            (name.lower().replace("_", "-").encode(), v.encode()) for name, v in headers.items()
        ]
        communicator = WebsocketCommunicator(application, "/ws/", headers=sent)
        if scheme is not None:
            communicator.scope["scheme"] = scheme
        accepted, _ = await communicator.connect(timeout=5)
        if accepted:
            assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
            await communicator.disconnect()
        return accepted

    yield _handshake
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


# --- The site's own pages ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("testserver", "http://testserver"),
        ("testserver:8000", "http://testserver:8000"),
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("localhost", "http://localhost:80"),  # the default port, spelled out
        ("testserver:80", "http://testserver"),
        ("TestServer", "http://testserver"),  # host names have no case
    ],
)
async def test_a_page_of_the_site_opens_a_socket(handshake: Handshake, host, origin) -> None:
    assert await handshake(host=host, origin=origin)


async def test_an_ipv6_host_compares_with_its_port(handshake: Handshake, settings) -> None:
    settings.ALLOWED_HOSTS = ["[::1]"]
    assert await handshake(host="[::1]:8000", origin="http://[::1]:8000")
    assert not await handshake(host="[::1]:8000", origin="http://[::1]:3000")


async def test_a_page_served_over_tls_opens_a_wss_socket(handshake: Handshake) -> None:
    assert await handshake(host="testserver", origin="https://testserver", scheme="wss")
    assert not await handshake(host="testserver", origin="http://testserver", scheme="wss")


# --- Everything else is refused in the handshake ----------------------------------------------
@pytest.mark.parametrize(
    ("host", "origin"),
    [
        # Another port of the same host: another site, whatever channels' check said.
        ("127.0.0.1:8000", "http://127.0.0.1:3000"),
        ("testserver:8000", "http://testserver"),
        ("testserver", "http://testserver:8080"),
        # Another scheme: an http socket is not the https site, nor the other way round.
        ("testserver", "https://testserver"),
        ("testserver:443", "https://testserver"),
        # Another host, or a host this site does not serve (DNS rebinding).
        ("testserver", "http://evil.example"),
        ("testserver", "http://testserver.evil.example"),
        ("evil.example", "http://evil.example"),
        (None, "http://testserver"),
        # Not an origin a browser sends for a page of ours.
        ("testserver", "null"),
        ("testserver", ""),
        ("testserver", "testserver"),
        ("testserver", "//testserver"),
        ("testserver", "http://testserver/"),
        ("testserver", "http://testserver/portal/"),
        ("testserver", "http://user@testserver"),
        ("testserver", "file://testserver"),
        ("testserver", "ws://testserver"),
        ("testserver", "http://testserver:99999"),
        ("testserver", "http://testserver:" + "8" * 5000),
        ("testserver", "http://testserver\x00.evil.example"),
        ("testserver", "http://test\u00e9server"),
        # No Origin at all: browsers always send one with a websocket.
        ("testserver", None),
    ],
)
async def test_any_other_origin_is_refused(handshake: Handshake, host, origin) -> None:
    assert not await handshake(host=host, origin=origin)
    assert not await sync_to_async(AgentConnection.objects.exists)()


async def test_two_origin_headers_are_refused(handshake: Handshake) -> None:
    assert not await handshake(
        host="testserver", origin="http://testserver", Origin="http://evil.example"
    )


async def test_a_refusal_is_logged_as_a_warning(handshake: Handshake, caplog) -> None:
    assert not await handshake(host="127.0.0.1:8000", origin="http://127.0.0.1:3000")
    [record] = [r for r in caplog.records if r.name == "realtime.origin"]
    assert record.levelno == logging.WARNING
    assert "http://127.0.0.1:3000" in record.getMessage()


# --- CSRF_TRUSTED_ORIGINS ------------------------------------------------------------------------
async def test_an_origin_in_csrf_trusted_origins_opens_a_socket(handshake, settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://help.example.com", "http://127.0.0.1:3000"]
    assert await handshake(host="testserver", origin="https://help.example.com")
    assert await handshake(host="testserver", origin="https://help.example.com:443")
    assert await handshake(host="127.0.0.1:8000", origin="http://127.0.0.1:3000")
    assert not await handshake(host="testserver", origin="http://help.example.com")
    assert not await handshake(host="testserver", origin="https://help.example.com:8443")
    assert not await handshake(host="testserver", origin="https://chat.help.example.com")


async def test_a_wildcard_in_csrf_trusted_origins_takes_the_subdomains(handshake, settings) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
    assert await handshake(host="testserver", origin="https://chat.example.com")
    assert await handshake(host="testserver", origin="https://a.b.example.com")
    assert not await handshake(host="testserver", origin="http://chat.example.com")
    assert not await handshake(host="testserver", origin="https://chat.example.com:8443")
    assert not await handshake(host="testserver", origin="https://evilexample.com")


# --- Behind a proxy that terminates TLS --------------------------------------------------------
async def test_x_forwarded_proto_counts_when_secure_proxy_ssl_header_trusts_it(
    handshake, settings
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["help.example.com"]
    proxied: dict[str, Any] = {"host": "help.example.com", "X_Forwarded_Proto": "https"}
    assert await handshake(origin="https://help.example.com", **proxied)
    assert not await handshake(origin="http://help.example.com", **proxied)
    # The proxy said http: the page was not served over TLS.
    assert await handshake(
        host="help.example.com", origin="http://help.example.com", X_Forwarded_Proto="http"
    )


async def test_x_forwarded_proto_is_ignored_unless_trusted(handshake, settings) -> None:
    settings.SECURE_PROXY_SSL_HEADER = None
    assert not await handshake(
        host="testserver", origin="https://testserver", X_Forwarded_Proto="https"
    )
    assert await handshake(host="testserver", origin="http://testserver", X_Forwarded_Proto="https")
