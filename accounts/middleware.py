"""Pages in the time zone of the person reading them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.time_zones import zone_of


class TimeZoneMiddleware:
    """Activates the logged-in user's zone (``User.time_zone``, else the
    helpdesk's ``TIME_ZONE``) for the request, so templates and forms show
    and read times in it. Anonymous visitors get the helpdesk's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(zone_of(user))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
