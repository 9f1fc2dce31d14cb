"""Who may open the portal and the console.

Anonymous visitors are sent to the login page (with ``next``); a logged-in
user in the wrong area gets a 403 page that links to the right one, rather
than a redirect that would hide the mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def client_required(view: View) -> View:
    """The portal is for clients (contacts of customer companies)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_client:
            raise PermissionDenied("The portal is for clients. Staff work in the console.")
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view: View) -> View:
    """The console is for staff: agents, supervisors and administrators."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_agent:
            raise PermissionDenied("The console is for helpdesk staff.")
        return view(request, *args, **kwargs)

    return wrapper
