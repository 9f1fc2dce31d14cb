"""Reading settings from the environment: django-environ's ``Env``, with the
variable's name in every refusal so a bad value stops start-up with a message
that says which one."""

from __future__ import annotations

from collections.abc import Sequence

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole number of at least ``minimum``."""
    try:
        value = env.int(name, default=default)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} must be a whole number (got {env.str(name)!r})"
        ) from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum} (got {value})")
    return value


def env_seconds(name: str, default: float, *, least: float) -> float:
    """Seconds: 0 (off) or at least ``least``. Not ``env.float``: it drops
    every character that is not a digit, so "0.2s" or "2 min" would pass."""
    try:
        value = float(env.str(name, default=str(default)))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} must be a number of seconds (got {env.str(name)!r})"
        ) from exc
    if value != 0 and not value >= least:  # also refuses nan and negatives
        raise ImproperlyConfigured(
            f"{name} must be 0 (off) or at least {least} (got {env.str(name)!r})"
        )
    return value


def env_bool(name: str, default: bool) -> bool:
    """true/false, yes/no, on/off, 1/0. Not ``env.bool``: it reads every value
    it does not know as false, so a typo would switch a setting off silently."""
    raw = env.str(name, default="1" if default else "0").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (got {raw!r})")


# filemail:// URLs (and development's default) write with the backend that logs
# one line per email naming its file.
FILE_EMAIL_BACKEND = "config.email_files.FileEmailBackend"


def env_email(name: str, *, default: str) -> dict[str, object]:
    """Django's EMAIL_* settings from an email URL (django-environ's schemes:
    smtp://, smtp+tls://, consolemail://, filemail:///relative or
    filemail:////absolute/path, ...)."""
    try:
        config = env.email_url(name, default=default)
    except (ImproperlyConfigured, ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{name} is not a valid email URL: {exc}") from exc
    if config["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
        if not config["EMAIL_FILE_PATH"]:
            raise ImproperlyConfigured(
                f"{name} names no directory (filemail:////absolute/path or filemail:///relative)"
            )
        config["EMAIL_BACKEND"] = FILE_EMAIL_BACKEND
    return config


def env_all_or_none(names: Sequence[str], *, what: str) -> dict[str, str]:
    """Settings that only work together (one provider's credentials): all set
    (the feature is on) or none (off). Some but not all stops start-up with
    the names of the missing ones, so a half-configured feature never looks
    like a switched-off one."""
    values = {name: env.str(name, default="").strip() for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing and len(missing) < len(names):
        given = [name for name in names if name not in missing]
        raise ImproperlyConfigured(
            f"{what} is half configured: {', '.join(given)} set, but not "
            f"{', '.join(missing)} (set the missing ones, or unset all of "
            f"{', '.join(names)} to turn it off)"
        )
    return values
