"""Office hours: "is the helpdesk open at this instant?" and "when does it open next?".

The schedule is written in local wall-clock time of its zone (``Schedule.timezone``),
which is how people think about office hours ("Monday 09:00-17:30 in London").
Everything here turns the weekly pattern into concrete periods of real time
(aware datetimes in UTC) for the local dates around the instant asked about,
and answers from those. That keeps the rules in one place:

* An interval opens on its weekday at ``start`` and closes at ``end`` the same
  day, or the next day when ``end <= start`` (crossing midnight);
  ``00:00-00:00`` is the whole day (it is the ``end <= start`` rule as well).
* A ``Holiday`` (a local date) closes the intervals that *start* on that date.
  An interval that started the previous evening still runs to its end.
* Daylight saving time, with ``zoneinfo``:
  - a wall-clock time that does not exist (inside the spring-forward gap)
    means the first real instant after the gap (e.g. 01:30 on the night
    Europe/London springs forward means 02:00 BST, the instant of the change);
  - a wall-clock time that happens twice (fall-back) means the first time it
    happens (``fold=0``).
  So a day-long interval lasts 23 or 25 real hours on those days, and an
  interval lying entirely inside the gap never opens.
* No active schedule at all means always open: a helpdesk that has not
  configured hours must never turn clients away. A schedule without any
  interval means never open.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction

from officehours.models import Schedule

# How far ahead next_opening looks. A year plus a week covers a schedule that
# is closed for every remaining day of the year but one (long holiday lists)
# while keeping the search bounded for one that never opens.
SEARCH_HORIZON_DAYS = 366 + 7


@dataclass(frozen=True)
class _Pattern:
    """A schedule loaded into memory: everything the calculations need."""

    zone: zoneinfo.ZoneInfo
    zone_name: str
    # weekday (0 = Monday) -> list of (start, end) wall-clock times
    intervals: dict[int, list[tuple[time, time]]]
    holidays: frozenset[date]


def active_schedule() -> Schedule | None:
    """The schedule in use, with its intervals and holidays loaded, or None."""
    return Schedule.objects.filter(is_active=True).prefetch_related("intervals", "holidays").first()


def is_open(at: datetime, *, schedule: Schedule | None = None) -> bool:
    """Whether the helpdesk is open at the aware instant ``at``.

    ``schedule`` defaults to the active one; with no active schedule the
    helpdesk counts as always open. Open periods are half-open: exactly at an
    interval's start it is open, exactly at its end it is closed.
    """
    _require_aware(at)
    pattern = _load(schedule)
    if pattern is None:
        return True
    return _is_open(pattern, at)


def next_opening(at: datetime, *, schedule: Schedule | None = None) -> datetime | None:
    """When the helpdesk is next open, as an aware datetime in UTC.

    * Open at ``at`` (or no active schedule at all): the instant ``at`` itself.
    * Closed: the start of the first open period strictly after ``at``.
    * None when the schedule never opens within ``SEARCH_HORIZON_DAYS`` (no
      intervals, or everything inside the horizon is a holiday).

    UTC rather than the schedule's zone on purpose: an aware datetime inside a
    repeated (fall-back) hour compares unequal to every other zone's datetime
    (PEP 495), a trap for callers. ``describe_next_opening`` gives local words.
    """
    _require_aware(at)
    pattern = _load(schedule)
    if pattern is None or _is_open(pattern, at):
        return at.astimezone(UTC)
    return _first_start_after(pattern, at)


def describe_next_opening(at: datetime, *, schedule: Schedule | None = None) -> str:
    """Next opening in words for the client dialog, e.g. "Monday 09:00 (Europe/London)".

    "now" when open at ``at``; the date is added when the opening is a week or
    more away ("Monday 6 January 09:00 (Europe/London)"); when the schedule
    never opens, says that no opening time is scheduled.
    """
    _require_aware(at)
    pattern = _load(schedule)
    if pattern is None or _is_open(pattern, at):
        return "now"
    found = _first_start_after(pattern, at)
    if found is None:
        return "no opening time is scheduled"
    opening = found.astimezone(pattern.zone)
    local_now = at.astimezone(pattern.zone)
    if (opening.date() - local_now.date()).days >= 7:
        when = f"{opening:%A} {opening.day} {opening:%B %H:%M}"
    else:
        when = f"{opening:%A %H:%M}"
    return f"{when} ({pattern.zone_name})"


def schedule_activate(*, schedule: Schedule) -> Schedule:
    """Make ``schedule`` the one in use, deactivating the previous one.

    Both rows change in one transaction: the "one active schedule" constraint
    never sees two, and nobody ever sees none in between.
    """
    with transaction.atomic():
        Schedule.objects.filter(is_active=True).exclude(pk=schedule.pk).update(is_active=False)
        Schedule.objects.filter(pk=schedule.pk).update(is_active=True)
    schedule.is_active = True
    return schedule


# --- internals -------------------------------------------------------------------


def _first_start_after(pattern: _Pattern, at: datetime) -> datetime | None:
    """Start of the first open period strictly after ``at``, within the horizon."""
    if not pattern.intervals:
        return None
    first_day = at.astimezone(pattern.zone).date() - timedelta(days=1)
    for day in _days(first_day, SEARCH_HORIZON_DAYS + 1):
        # Periods of later dates start later (the gap and fold rules keep
        # wall-clock order), so the first date with a start after ``at`` has it.
        starts = [start for start, _end in _periods_of_day(pattern, day) if start > at]
        if starts:
            return min(starts)
    return None


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        # A naive datetime has no instant; guessing a zone would silently give
        # wrong answers around DST changes.
        raise ValueError("Office-hours calculations need an aware datetime.")


def _load(schedule: Schedule | None) -> _Pattern | None:
    if schedule is None:
        schedule = active_schedule()
        if schedule is None:
            return None
    intervals: dict[int, list[tuple[time, time]]] = {}
    # .all() uses prefetch_related() results when the caller loaded them.
    for interval in schedule.intervals.all():
        intervals.setdefault(interval.weekday, []).append((interval.start, interval.end))
    holidays = frozenset(holiday.date for holiday in schedule.holidays.all())
    return _Pattern(
        zone=zoneinfo.ZoneInfo(schedule.timezone),
        zone_name=schedule.timezone,
        intervals=intervals,
        holidays=holidays,
    )


def _is_open(pattern: _Pattern, at: datetime) -> bool:
    # An interval lasts at most one day of wall-clock time, so only intervals
    # that started on the local date of ``at`` or the day before can cover it.
    today = at.astimezone(pattern.zone).date()
    for day in (today - timedelta(days=1), today):
        for start, end in _periods_of_day(pattern, day):
            if start <= at < end:
                return True
    return False


def _days(first: date, count: int) -> Iterator[date]:
    for offset in range(count):
        yield first + timedelta(days=offset)


def _periods_of_day(pattern: _Pattern, day: date) -> list[tuple[datetime, datetime]]:
    """The real-time periods (UTC) of the intervals that start on local ``day``."""
    if day in pattern.holidays:
        return []
    periods = []
    for start, end in pattern.intervals.get(day.weekday(), ()):
        end_day = day + timedelta(days=1) if end <= start else day
        opens = _instant(day, start, pattern.zone)
        closes = _instant(end_day, end, pattern.zone)
        # An interval inside the spring-forward gap collapses to nothing.
        if opens < closes:
            periods.append((opens, closes))
    return periods


def _instant(day: date, wall: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """The real instant (UTC) of wall-clock ``wall`` on local ``day`` in ``zone``.

    Ambiguous (fall-back) times resolve to their first occurrence; times in a
    spring-forward gap to the first real instant after the gap.
    """
    naive = datetime.combine(day, wall.replace(tzinfo=None))
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first  # the time exists (fold=0 is its first occurrence)
    # Inside a gap. fold=0 and fold=1 map it with the offsets before and after
    # the change; the change itself lies between the two. Local time only moves
    # forward there, so bisect (on whole seconds, as zone changes are) for the
    # first instant whose local time is past ``naive``: the end of the gap.
    other = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low = int(min(first, other).timestamp())  # local time before the gap
    high = int(max(first, other).timestamp())  # local time after the gap
    while high - low > 1:
        middle = (low + high) // 2
        local = datetime.fromtimestamp(middle, UTC).astimezone(zone).replace(tzinfo=None)
        if local > naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)
