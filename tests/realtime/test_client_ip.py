"""An HTTP request gets the same client address as a socket from the same place
(login throttling counts by it; chat requests and IP blocks by the socket's)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIRequest

from realtime.client_ip import client_ip_from_request, client_ip_from_scope

CASES = [
    # (peer, X-Forwarded-For header lines, trusted proxies, expected)
    ("198.51.100.4", ["203.0.113.66"], 0, "198.51.100.4"),
    ("10.0.0.2", ["1.2.3.4, 203.0.113.9"], 1, "203.0.113.9"),
    ("10.0.0.3", ["1.2.3.4, 203.0.113.9, 10.0.0.2"], 2, "203.0.113.9"),
    ("10.0.0.3", ["1.2.3.4", "203.0.113.9"], 1, "203.0.113.9"),
    ("10.0.0.2", ["203.0.113.9"], 2, "203.0.113.9"),
    ("10.0.0.2", [], 1, "10.0.0.2"),
    ("not-an-ip", [], 0, None),
    ("10.0.0.2", ["<script>"], 1, None),
    ("2001:DB8::1", [], 0, "2001:db8::1"),
    ("10.0.0.2", ["[2001:db8::2]:443"], 1, "2001:db8::2"),
]


def http_scope(peer: str, forwarded: list[str]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/accounts/login/",
        "query_string": b"",
        "client": (peer, 51000),
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded],
    }


@pytest.mark.parametrize(("peer", "forwarded", "proxies", "expected"), CASES)
def test_a_request_through_daphne_gets_the_sockets_address(
    peer: str, forwarded: list[str], proxies: int, expected: str | None
) -> None:
    scope = http_scope(peer, forwarded)
    request = ASGIRequest(scope, io.BytesIO())

    assert client_ip_from_request(request, trusted_proxies=proxies) == expected
    assert client_ip_from_scope(scope, trusted_proxies=proxies) == expected


def test_no_peer_address_is_unknown(rf) -> None:  # type: ignore[no-untyped-def]
    request = rf.get("/")
    del request.META["REMOTE_ADDR"]

    assert client_ip_from_request(request, trusted_proxies=0) is None


def test_the_setting_is_the_default(rf, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")

    assert client_ip_from_request(request) == "203.0.113.9"
