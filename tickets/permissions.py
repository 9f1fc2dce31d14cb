"""Who may open the portal and the console, and the staff-only API.

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
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

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


class IsStaff(permissions.BasePermission):
    """API endpoints for staff: agents, supervisors and administrators.
    Checked before the object is looked up, so a client gets the same 403 for
    every id and learns nothing."""

    message = "Only helpdesk staff may do this."
    code = "staff_only"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_agent)
