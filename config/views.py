from __future__ import annotations

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Clients land on the portal, staff on the console."""
    return redirect("console:tickets" if request.user.is_agent else "portal:home")


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness of the two things the product cannot run without: 200 when the
    database and Redis both answer, 503 otherwise (a load balancer or
    supervisor takes the process out of service). Public and cheap; failures
    name the exception class only, never a host or a password."""
    checks = {"database": _check_database(), "redis": _check_redis(settings.REDIS_URL)}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - report any failure, do not raise
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _check_redis(url: str) -> str:
    # Short timeouts on connect too: a Redis host that drops packets must not
    # hold the health check (and the load balancer) for the OS's TCP timeout.
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    finally:
        client.close()
    return "ok"
