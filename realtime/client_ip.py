"""The IP address a browser came from: a socket's, recorded on a chat request
(IP blocks, visitor info), and an HTTP request's, counted by the login
throttle (django-axes' ``AXES_CLIENT_IP_CALLABLE``). Both read the same way, so
one browser is one address to either.

Behind reverse proxies the peer is the nearest proxy. Only the
addresses that trusted proxies appended to ``X-Forwarded-For`` can be believed:
a client may send the header itself with any address in it. With
``TRUSTED_PROXY_COUNT = N`` the Nth address from the right is the one the
outermost trusted proxy saw connecting; with 0 the header is ignored. (daphne's
``--proxy-headers`` puts the *leftmost* address in ``scope["client"]``, which a
client can choose; setting the count reads past that.)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def _valid(value: str | None) -> str | None:
    """A normalised address, or None for anything that is not one."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:443"
        value = value[1 : value.index("]")]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    values = [v for k, v in scope.get("headers") or () if k.lower() == name]
    if not values:
        return None
    # Several header lines count as one comma-separated list, in order.
    return ",".join(v.decode("latin-1") for v in values)


def client_ip_from_scope(
    scope: Mapping[str, Any], *, trusted_proxies: int | None = None
) -> str | None:
    """The client's address for this ASGI scope, or None when unknown."""
    client = scope.get("client")
    return _client_ip(
        forwarded=_header(scope, b"x-forwarded-for"),
        peer=str(client[0]) if client else None,
        trusted_proxies=trusted_proxies,
    )


def client_ip_from_request(
    request: HttpRequest, *, trusted_proxies: int | None = None
) -> str | None:
    """The client's address for this HTTP request, or None when unknown.
    Under daphne ``REMOTE_ADDR`` is the scope's client and several
    ``X-Forwarded-For`` lines arrive joined by commas, as the scope reads them."""
    return _client_ip(
        forwarded=request.META.get("HTTP_X_FORWARDED_FOR"),
        peer=request.META.get("REMOTE_ADDR"),
        trusted_proxies=trusted_proxies,
    )


def _client_ip(
    *, forwarded: str | None, peer: str | None, trusted_proxies: int | None
) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT if trusted_proxies is None else trusted_proxies
    if count > 0:
        hops = [hop.strip() for hop in forwarded.split(",")] if forwarded else []
        if hops:
            # Fewer hops than proxies: it skipped the outer ones, and every
            # hop there is was still appended by a trusted proxy.
            return _valid(hops[-min(count, len(hops))])
    return _valid(peer)
