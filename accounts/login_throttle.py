"""Login throttling with django-axes: after ``AXES_FAILURE_LIMIT`` failed log-ins
for one account, or from one address, logging in that way is locked for
``AXES_COOLOFF_TIME`` (settings: SWITCHBOARD_LOGIN_*).

Axes counts the failures (its ``AccessAttempt`` rows, one per email, address
and user agent, each with its failures and the time of the latest) and refuses
every log-in while locked, the right password included. This module holds what
Switchboard adds: the email as the account's one spelling, the reset on
success of the account's failures only, and how long a lock still lasts.
Administrators lift a lock in Django admin by deleting the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address, get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

# AccessAttempt.username is a varchar(255); nothing longer is an email anyway.
_USERNAME_MAX_CHARS = 255


def attempted_email(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The account a log-in tried, as axes counts it (``AXES_USERNAME_CALLABLE``):
    the email as typed, trimmed and lower-cased, the way the login finds the
    user (email__iexact), so "Alice@Acme.example" is not a fresh account to
    guess at."""
    if credentials is not None:
        raw = credentials.get("username")
    else:
        raw = getattr(request, "POST", {}).get("username")
    if not raw:
        return None
    return str(raw).strip().lower()[:_USERNAME_MAX_CHARS]


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler (``AXES_HANDLER``), but a successful log-in clears
    the failures of its account only. Axes' own reset also clears every failure
    from the address, so a guesser with an account of its own could log in to
    it between guesses and never reach the address's limit."""

    def user_login_failed(
        self,
        sender: object,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        if request is not None:
            # Stored as sent; PostgreSQL refuses a NUL byte in text (axes
            # cleans only the form data), and a header may carry one.
            for name in ("axes_user_agent", "axes_http_accept"):
                setattr(request, name, getattr(request, name, "").replace("\0", ""))
        super().user_login_failed(sender, credentials, request, **kwargs)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        username = get_client_username(request, credentials)
        return forget_account_failures(username) if username else 0


def forget_account_failures(email: str) -> int:
    """Clear an account's failures, from every address (a successful log-in, a
    new password set through the reset link). Returns the rows deleted."""
    username = attempted_email(None, {"username": email})
    deleted, _ = AccessAttempt.objects.filter(username=username).delete()
    return deleted


@dataclass(frozen=True)
class Lock:
    """A lock-out in force: of the account tried, of the address it came from,
    or of both, and how long it still lasts."""

    account: bool
    address: bool
    remaining: timedelta


def lock_for(request: HttpRequest, email: str | None) -> Lock | None:
    """The lock that refuses this log-in now, or None. Axes counts a row's
    failures while its latest is younger than the cool-off, so a lock ends
    when its newest rows that still reach the limit grow old."""
    now = timezone.now()
    account = _lock_ends(now, username=attempted_email(None, {"username": email}))
    address = _lock_ends(now, ip_address=get_client_ip_address(request))
    ends = [end for end in (account, address) if end is not None]
    if not ends:
        return None
    return Lock(account=account is not None, address=address is not None, remaining=max(ends) - now)


def _lock_ends(now: datetime, **attempts_of: str | None) -> datetime | None:
    """When the lock on these attempts ends, or None when they are not locked."""
    if None in attempts_of.values():
        return None
    cool_off: timedelta = settings.AXES_COOLOFF_TIME
    rows = (
        AccessAttempt.objects.filter(**attempts_of, attempt_time__gte=now - cool_off)
        .order_by("-attempt_time")
        .values_list("attempt_time", "failures_since_start")
    )
    failures = 0
    for attempt_time, count in rows:
        failures += count
        if failures >= settings.AXES_FAILURE_LIMIT:
            return attempt_time + cool_off
    return None
