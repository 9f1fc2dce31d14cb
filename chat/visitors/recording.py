"""What a browser tells us about itself when its client asks to chat (or
accepts a pushed chat), and the visitor cookies it carries: their format and
parsing (the middleware sets them), and the record kept for staff."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chat.models import ChatSession, VisitorInfo

COOKIE_NAME = "sb_first_visit"
LANDING_COOKIE = "sb_landing"
PATH_MAX = 500
USER_AGENT_MAX = 500
# A first visit "in the future" beyond clock skew is a forged or broken cookie.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Visit:
    """What a browser told us about itself when it asked to chat."""

    user_agent: str = ""
    landing_page: str = ""
    landing_at: datetime | None = None
    first_visit_page: str = ""
    first_visit_at: datetime | None = None
    client_ip: str | None = None


# --- Parsing what the browser sent ------------------------------------------------------------


def clean_path(value: Any) -> str | None:
    """``value`` if it is a same-origin relative path (``/portal/...``), else
    None. ``//host/...`` is another origin; a backslash is one to some
    browsers; whitespace and control characters have no place in a URL path."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > PATH_MAX:
        return None
    if value.startswith("//") or "\\" in value:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    return value


def clean_title(value: Any) -> str:
    """A page title on one line: whitespace (newlines, tabs) collapsed; other
    control characters dropped. Length is the caller's rule."""
    if not isinstance(value, str):
        return ""
    printable = "".join(ch for ch in value if ch.isprintable() or ch.isspace())
    return " ".join(printable.split())


def _clean_user_agent(value: str) -> str:
    return clean_title(value)[:USER_AGENT_MAX]


def _parse_time(value: Any) -> datetime | None:
    """An aware datetime not after now (plus skew), else None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or timezone.is_naive(parsed):
        return None
    if parsed > timezone.now() + CLOCK_SKEW or parsed.year < 2000:
        return None
    return parsed


def visit_cookie(at: datetime, path: str) -> str:
    """The cookie's value: only characters a cookie may carry unquoted."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{stamp}|{quote(path, safe='')}"


def parse_visit_cookie(raw: Any) -> tuple[datetime, str] | None:
    """``(when, path)`` of an ``sb_first_visit`` or ``sb_landing`` value, or
    None for anything that is not one of ours (missing, garbled, future,
    foreign path)."""
    if not isinstance(raw, str) or not raw or len(raw) > 4 * PATH_MAX:
        return None
    stamp, sep, encoded = raw.partition("|")
    if not sep:
        return None
    at = _parse_time(stamp)
    path = clean_path(unquote(encoded))
    if at is None or path is None:
        return None
    return at, path


def _header(scope: Mapping[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def visit_from_scope(scope: Mapping[str, Any], *, client_ip: str | None = None) -> Visit:
    """The visit of a websocket's browser: its headers and cookies."""
    cookies = scope.get("cookies") or {}
    first = parse_visit_cookie(cookies.get(COOKIE_NAME))
    landing = parse_visit_cookie(cookies.get(LANDING_COOKIE))
    return Visit(
        user_agent=_clean_user_agent(_header(scope, b"user-agent")),
        landing_page=landing[1] if landing else "",
        landing_at=landing[0] if landing else None,
        first_visit_page=first[1] if first else "",
        first_visit_at=first[0] if first else None,
        client_ip=client_ip,
    )


# --- Recording (inside session_request / push_answer) ----------------------------------------


def visit_record(*, session: ChatSession, visit: Visit | None) -> VisitorInfo | None:
    """Store ``visit`` for ``session``. Called inside the caller's transaction
    (the chat's creation or its acceptance), so the two commit together. A
    pushed chat had no address until the client accepted it: set it then."""
    if visit is None:
        return None
    if visit.client_ip and not session.client_ip:
        ChatSession.objects.filter(pk=session.pk, client_ip__isnull=True).update(
            client_ip=visit.client_ip
        )
        session.client_ip = visit.client_ip
    info, _ = VisitorInfo.objects.update_or_create(
        session=session,
        defaults={
            "user_agent": visit.user_agent[:USER_AGENT_MAX],
            "landing_page": visit.landing_page[:PATH_MAX],
            "landing_at": visit.landing_at,
            "first_visit_page": visit.first_visit_page[:PATH_MAX],
            "first_visit_at": visit.first_visit_at,
            "recorded_at": timezone.now(),
        },
    )
    return info
