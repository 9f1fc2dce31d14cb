"""The visitor cookies of portal pages (see chat.visitors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from chat.visitors.recording import (
    COOKIE_NAME,
    LANDING_COOKIE,
    clean_path,
    parse_visit_cookie,
    visit_cookie,
)

PORTAL_PREFIX = "/portal/"


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
