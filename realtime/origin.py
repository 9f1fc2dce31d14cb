"""Only pages of this site open a socket: the websocket handshake's Origin
must be the site's own origin or one listed in ``CSRF_TRUSTED_ORIGINS``.

A browser sends its cookies with any page's websocket handshake, and the
same-origin policy does not cover websockets, so without this check any page
a logged-in user visits could open a socket in their name. An origin is a
scheme, a host and a port: a page on another port of the same host
(``http://127.0.0.1:3000`` for a server on 8000) is another site. (channels'
``AllowedHostsOriginValidator`` compared host names only and let it in.)

The site's origin is what the browser asked for, as Django's CSRF check of an
Origin header takes it: the handshake's ``Host`` header, whose host must be
in ``ALLOWED_HOSTS``, with ``https`` when the socket is ``wss`` or, when
``SECURE_PROXY_SSL_HEADER`` is set (production: a proxy terminates TLS and
sets ``X-Forwarded-Proto``), when that header says so; without the setting no
such header is believed. Missing ports are the scheme's default (80, 443)
before comparing. Refused: no Origin or more than one, ``null`` (sandboxed
frames, ``file:`` pages), anything that is not ``scheme://host[:port]``, and
every other origin. A refusal closes the handshake, which the browser sees as
HTTP 403, and is logged as a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# (scheme, host, port), the port filled in; an IPv6 host keeps its brackets.
Origin = tuple[str, str, int]

DEFAULT_PORTS = {"http": 80, "https": 443}
# What ALLOWED_HOSTS is with DEBUG on when it is empty (as Django's get_host).
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


def _header_values(scope: Mapping[str, Any], name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers") or () if key == name]


def _host_and_port(netloc: str, scheme: str) -> tuple[str, int] | None:
    domain, port = split_domain_port(netloc)  # lowercased; "" for anything not a host
    if not domain:
        return None
    if not port:
        return domain, DEFAULT_PORTS[scheme]
    if len(port) > 5 or not 0 < int(port) <= 65535:
        return None
    return domain, int(port)


def parse_origin(value: str) -> Origin | None:
    """``http(s)://host[:port]`` as browsers send it, or None for anything else
    (a path, user info, another scheme, ``null``)."""
    scheme, separator, netloc = value.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in DEFAULT_PORTS:
        return None
    host_and_port = _host_and_port(netloc, scheme)
    return (scheme, *host_and_port) if host_and_port else None


def _secure(scope: Mapping[str, Any]) -> bool:
    """Was the socket opened over TLS (as Django's ``HttpRequest.scheme``)?"""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        # Django names it as a WSGI environ key: HTTP_X_FORWARDED_PROTO.
        header = meta_name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
        values = _header_values(scope, header) if meta_name.startswith("HTTP_") else []
        if values:
            return ",".join(values).split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def site_origin(scope: Mapping[str, Any]) -> Origin | None:
    """The origin the browser asked for, or None when its Host header is
    missing, repeated, malformed or not in ALLOWED_HOSTS."""
    hosts = _header_values(scope, b"host")
    if len(hosts) != 1:
        return None
    scheme = "https" if _secure(scope) else "http"
    host_and_port = _host_and_port(hosts[0], scheme)
    allowed_hosts = settings.ALLOWED_HOSTS or (DEBUG_HOSTS if settings.DEBUG else [])
    if host_and_port is None or not validate_host(host_and_port[0], allowed_hosts):
        return None
    return (scheme, *host_and_port)


def _trusted(origin: Origin) -> bool:
    """Is ``origin`` in CSRF_TRUSTED_ORIGINS (``https://*.example.com``
    standing for example.com and its subdomains, as for Django)?"""
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in entry
        trusted = parse_origin(entry.replace("://*.", "://", 1))
        if trusted is None:
            continue
        if not wildcard:
            if trusted == origin:
                return True
            continue
        trusted_scheme, parent_domain, trusted_port = trusted
        if (trusted_scheme, trusted_port) == (scheme, port) and is_same_domain(
            host, "." + parent_domain
        ):
            return True
    return False


def origin_allowed(scope: Mapping[str, Any]) -> bool:
    """May this websocket handshake open a socket?"""
    origins = _header_values(scope, b"origin")
    if len(origins) != 1:
        return False
    origin = parse_origin(origins[0])
    if origin is None:
        return False
    return origin == site_origin(scope) or _trusted(origin)


class SiteOriginValidator:
    """ASGI middleware in front of the websocket routes: a handshake whose
    origin is not allowed (:func:`origin_allowed`) is closed before it is
    accepted, so the browser gets HTTP 403 and no consumer runs."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            logger.warning(
                "websocket refused: origin %.200r is not this site (Host %.200r)",
                ", ".join(_header_values(scope, b"origin")) or None,
                ", ".join(_header_values(scope, b"host")) or None,
            )
            await receive()  # websocket.connect
            await send({"type": "websocket.close"})
            return
        await self.application(scope, receive, send)
