"""Visitor info and page views: where the client of a chat came from, and the
portal pages it opens while its chat is open. Staff only, everywhere.

Rules (each checked here, never in the browser):

- **What is recorded** when a client asks to chat (``session_request``) or
  accepts a pushed chat (``push_answer``), in that transaction: the browser's
  user agent (the socket's ``User-Agent`` header), the landing page (the first
  portal page of this browser session) and the first visit (when and where
  this browser first opened the portal). The IP address is
  ``ChatSession.client_ip`` (chat.client_ip). Asking again for a chat that is
  still open changes nothing.
- **The cookies**, set by :class:`VisitorMiddleware` on a GET of a portal page
  when the browser has none (or an unreadable one): ``sb_first_visit`` for
  ``VISITOR_COOKIE_DAYS``, and ``sb_landing``, a browser-session cookie (no
  expiry: it goes when the browser closes). Both are ``<ISO-8601 UTC
  time>|<percent-encoded path>``, HttpOnly, SameSite=Lax, Secure whenever the
  session cookie is (production). The landing page is a cookie rather than a
  Django session key so that a page view never writes the session table (and
  "this browser session" is what a session cookie means). Both are the
  browser's word: a value that does not parse, lies in the future or names no
  same-origin path counts as no value.
- **Who sees it**: staff who may read the chat (chat.selectors.session_for),
  through the ``chat.visitor`` frame only. Nothing of it is in
  ``session_payload`` (which clients get too), in any client frame, page or
  API response.
- **Page views**: only the chat's own client reports them, only while the
  chat is waiting or active and the client is in its room. A path is a
  same-origin path (starts with one ``/``, no backslash, whitespace or control
  characters, at most ``PATH_MAX``); a title at most ``TITLE_MAX`` after
  collapsing whitespace. The same path as the chat's latest page view is not
  recorded again (reloads, reconnects, several tabs), and a chat keeps at most
  ``PAGE_VIEWS_PER_CHAT``; the socket's rate limit bounds the rest.
- **Page views are staff-only lines**: a ``PageView`` is not a ``Message``,
  so it takes no ``seq`` (the client's gap detection would wait forever for a
  seq it may not see) and is never in a client's replay, history, API,
  transcript or email. It is delivered to the supervisors watching the chat
  and the agents in its room (chat.events.page_viewed), and the agent's chat
  window shows it as a system line between the messages, by time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from chat import events, selectors
from chat.errors import ChatForbidden, ChatNotFound, InvalidState, MessageInvalid
from chat.models import (
    ChatSession,
    PageView,
    Participant,
    SessionStatus,
    VisitorInfo,
)
from chat.payloads import user_payload

COOKIE_NAME = "sb_first_visit"
LANDING_COOKIE = "sb_landing"
PORTAL_PREFIX = "/portal/"
PATH_MAX = 500
TITLE_MAX = 200
USER_AGENT_MAX = 500
PAGE_VIEWS_PER_CHAT = 500
PAGE_VIEW_STATUSES = (SessionStatus.WAITING, SessionStatus.ACTIVE)
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


# --- The middleware ---------------------------------------------------------------------------


class VisitorMiddleware:
    """On GETs of portal pages: give a browser without them the first-visit
    cookie and the landing-page cookie. No database work, and no thread hop
    under ASGI (sync and async capable); other requests pass straight through."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        response = self.get_response(request)
        _set_visit_cookies(request, response)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        response = await self.get_response(request)
        _set_visit_cookies(request, response)
        return response


def _set_visit_cookies(request: HttpRequest, response: HttpResponse) -> None:
    if request.method != "GET" or not request.path.startswith(PORTAL_PREFIX):
        return
    path = clean_path(request.get_full_path()) or clean_path(request.path) or PORTAL_PREFIX
    now = timezone.now()
    secure = settings.SESSION_COOKIE_SECURE or request.is_secure()
    for name, max_age in (
        (COOKIE_NAME, settings.VISITOR_COOKIE_DAYS * 24 * 3600),
        (LANDING_COOKIE, None),  # a browser-session cookie
    ):
        if parse_visit_cookie(request.COOKIES.get(name)) is None:
            response.set_cookie(
                name,
                visit_cookie(now, path),
                max_age=max_age,
                path="/",
                secure=secure,
                httponly=True,
                samesite="Lax",
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


# --- Page views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageViewResult:
    page_view: PageView | None
    created: bool


def page_view_record(
    *, session_id: int, client: User, path: Any, title: Any = ""
) -> PageViewResult:
    """The chat's client opened a portal page while its chat is open."""
    if not client.is_authenticated or not client.is_client:
        raise ChatForbidden("Only the chat's client reports its page views.")
    clean = clean_path(path)
    if clean is None:
        raise MessageInvalid(
            f"A page must be a path on this site starting with / (at most {PATH_MAX} characters).",
            code="page_path_invalid",
        )
    title = clean_title(title)
    if len(title) > TITLE_MAX:
        raise MessageInvalid(
            f"A page title may be at most {TITLE_MAX} characters.", code="page_title_too_long"
        )
    from chat.services import _lock

    with transaction.atomic():
        # Under the chat's row lock: it cannot end between the check and the
        # insert, and two tabs reporting the same page record it once.
        session = _lock(session_id)
        if session.client_id != client.pk:
            raise ChatNotFound("That chat does not exist.")
        if session.status not in PAGE_VIEW_STATUSES:
            raise InvalidState(
                "Page views are recorded while a chat is open.", code="chat_not_live"
            )
        if not Participant.objects.filter(
            session=session, user=client, left_at__isnull=True
        ).exists():
            raise InvalidState("You have left this chat.", code="not_in_room")
        views = PageView.objects.filter(session=session)
        last = views.order_by("-viewed_at", "-id").first()
        if last is not None and last.path == clean:
            return PageViewResult(last, False)
        if views.count() >= PAGE_VIEWS_PER_CHAT:
            return PageViewResult(None, False)
        view = PageView.objects.create(
            session=session, path=clean, title=title, viewed_at=timezone.now()
        )
        events.page_viewed(view, client=session.client)
        return PageViewResult(view, True)


# --- Reads and payloads (staff only) ----------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def page_view_payload(view: PageView, client: User | None) -> dict[str, Any]:
    name = client.display_name if client is not None else "The client"
    text = f"{name} viewed {view.path}" + (f" — {view.title}" if view.title else "")
    return {
        "id": view.pk,
        "session_id": view.session_id,
        "path": view.path,
        "title": view.title,
        "viewed_at": view.viewed_at.isoformat(),
        "client": user_payload(client),
        # The line as the console shows it (inserted as text, never HTML).
        "text": text,
    }


def visitor_payload(session: ChatSession, info: VisitorInfo | None) -> dict[str, Any]:
    return {
        "ip_address": session.client_ip,
        "user_agent": info.user_agent if info else "",
        "session_start": session.requested_at.isoformat(),
        "landing_page": info.landing_page if info else "",
        "landing_at": _iso(info.landing_at) if info else None,
        "first_visit_page": info.first_visit_page if info else "",
        "first_visit_at": _iso(info.first_visit_at) if info else None,
        "recorded": info is not None,
    }


def visitor_info_for(*, user: User, session_id: int) -> dict[str, Any]:
    """The ``chat.visitor`` reply: visitor info and page views of a chat, for
    staff who may read it. Anyone else (a client, its own chat included) is
    told the chat does not exist, so it learns nothing."""
    if not user.is_authenticated or not user.is_agent:
        raise ChatNotFound("That chat does not exist.")
    session = selectors.session_for(user, session_id)
    info = VisitorInfo.objects.filter(session=session).first()
    views = PageView.objects.filter(session=session).order_by("viewed_at", "id")
    return {
        "type": "chat.visitor",
        "session_id": session.pk,
        "visitor": visitor_payload(session, info),
        "page_views": [page_view_payload(v, session.client) for v in views[:PAGE_VIEWS_PER_CHAT]],
    }
