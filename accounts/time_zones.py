"""Each user's time zone, and dates and times written in it.

A user's ``time_zone`` is an IANA name ("Europe/Berlin") or empty: empty is the
helpdesk's own (``TIME_ZONE``), so the stored value never depends on how a
machine is configured. Pages are rendered in the viewer's zone
(``accounts.middleware.TimeZoneMiddleware``); text made for one person outside
a request (a transcript, an email, a ticket's description) is written in that
person's zone with ``format_in``. The formats themselves are one set for the
whole product: ``config/formats/en/formats.py`` (and ``static/js/chat/format.js``
in the browser, which prints the same).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, timezone

# The names of config/formats/en/formats.py: a day, a time, both.
Format = Literal["DATE_FORMAT", "TIME_FORMAT", "DATETIME_FORMAT"]


class HasTimeZone(Protocol):
    time_zone: str


@cache
def zone_names() -> tuple[str, ...]:
    """Every zone a user may choose: the IANA names, without the legacy
    aliases ("US/Eastern", "Etc/GMT+5", "EST") nobody looks for."""
    return tuple(
        sorted(name for name in available_timezones() if "/" in name and not _legacy(name))
    )


def _legacy(name: str) -> bool:
    return name.startswith(("Etc/", "SystemV/", "US/")) or name == "localtime"


def validate_time_zone(value: str) -> None:
    """Empty (the helpdesk's zone) or a zone of ``zone_names``."""
    if value and value not in zone_names():
        raise ValidationError(
            "%(value)s is not a time zone; choose one from the list (e.g. Europe/London).",
            code="invalid_time_zone",
            params={"value": value},
        )


def helpdesk_zone_name() -> str:
    return str(settings.TIME_ZONE)


def zone_name_of(user: HasTimeZone | None) -> str:
    """The zone ``user`` reads times in: its own, else the helpdesk's."""
    own = getattr(user, "time_zone", "") or ""
    return own if own in zone_names() else helpdesk_zone_name()


def zone_of(user: HasTimeZone | None) -> ZoneInfo:
    return ZoneInfo(zone_name_of(user))


def format_in(value: datetime, user: HasTimeZone | None, what: Format = "DATETIME_FORMAT") -> str:
    """``value`` as ``user`` reads it: in its zone, in the product's format
    ("7 Dec 2025, 14:02")."""
    return formats.date_format(timezone.localtime(value, zone_of(user)), what)
