"""Pieces every DRF view of the project shares.

* ``exception_handler``: every API error is JSON ``{"code": ..., "detail": ...}``
  (plus ``"fields"`` for per-field validation messages), so API clients switch
  on one stable ``code`` whatever raised it: DRF itself, Django's ``Http404`` /
  ``PermissionDenied``, or a service's ``DomainError``.
* ``OfflineSwaggerView``: the docs page, with its JS/CSS served from our own
  static files (the ``drf-spectacular-sidecar`` package), never from a CDN.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.templatetags.static import static
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from tickets.errors import DomainError

# A domain error is a 400 unless its code says otherwise. "The move does not
# fit the current state" is a 409 so clients can tell it from bad input.
# An error class may also carry its own ``http_status`` (it wins over this).
DOMAIN_ERROR_STATUS: dict[str, int] = {
    "forbidden": 403,
    "chat_not_allowed": 403,
    "not_found": 404,
    "ticket_closed": 409,
    "ticket_not_closed": 409,
    "already_answered": 409,
    "invalid_state": 409,
    "client_offline": 409,
}


def domain_error_status(exc: DomainError) -> int:
    status = getattr(exc, "http_status", None)
    if isinstance(status, int):
        return status
    return DOMAIN_ERROR_STATUS.get(exc.code, 400)


def _first_message(detail: Any) -> str:
    """The first human message in a (possibly nested) DRF error detail."""
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
        return ""
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def _first_code(codes: Any) -> str:
    if isinstance(codes, dict):
        for value in codes.values():
            return _first_code(value)
        return "invalid"
    if isinstance(codes, list):
        return _first_code(codes[0]) if codes else "invalid"
    return str(codes)


def _messages(detail: Any) -> Any:
    """ErrorDetail trees as plain strings (JSON renders them anyway; this keeps
    the shape explicit)."""
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_messages(value) for value in detail]
    return str(detail)


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **extra}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: JSON errors with a stable code.

    Anything not handled here (a bug) returns None and becomes a 500.
    """
    if isinstance(exc, DomainError):
        # The service's transaction already rolled back; this also rolls back
        # an ATOMIC_REQUESTS transaction should one ever be switched on.
        set_rollback()
        return Response(error_body(exc.code, exc.message), status=domain_error_status(exc))

    if isinstance(exc, Http404):
        # Django's message can name the model and lookup; say nothing more.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{exc.wait:.0f}"  # type: ignore[attr-defined]

    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(
            _first_code(exc.get_codes()), _first_message(exc.detail), fields=_messages(fields)
        )
    else:
        code = _first_code(exc.get_codes())
        detail = _first_message(exc.detail)
        if code == "permission_denied" and detail.startswith("CSRF Failed"):
            code = "csrf_failed"
        body = error_body(code, detail)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


class JsonErrorsMixin:
    """Use our exception handler even where settings still name DRF's default
    (the REST_FRAMEWORK setting is the main switch; this is the fallback)."""

    def get_exception_handler(self) -> Any:
        return exception_handler


class OfflineSwaggerView(JsonErrorsMixin, SpectacularSwaggerView):
    """Swagger UI from the ``drf_spectacular_sidecar`` static files.

    drf-spectacular's default loads Swagger UI from a CDN; helpdesks run this
    on networks without internet, so the assets always come from our own
    static files, whatever SPECTACULAR_SETTINGS says.
    """

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        ui_settings = spectacular_settings.SWAGGER_UI_SETTINGS
        if isinstance(ui_settings, dict):
            # Swagger UI would otherwise send the schema URL to its public
            # validator (validator.swagger.io) and show a broken badge offline.
            response.data["settings"] = self._dump({**ui_settings, "validatorUrl": None})
        return response

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png")
