"""Office hours: open/closed at the edges, midnight, holidays, DST, next opening."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError
from django.utils import timezone

from officehours import services
from officehours.models import Holiday, Schedule, Weekday, WeeklyInterval

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")

MON, TUE, WED, THU, FRI, SAT, SUN = (
    Weekday.MONDAY,
    Weekday.TUESDAY,
    Weekday.WEDNESDAY,
    Weekday.THURSDAY,
    Weekday.FRIDAY,
    Weekday.SATURDAY,
    Weekday.SUNDAY,
)
WORKDAYS = (MON, TUE, WED, THU, FRI)


def make_schedule(
    *,
    zone: str = "Europe/London",
    intervals: Iterable[tuple[int, str, str]] = (),
    holidays: Iterable[date] = (),
    active: bool = True,
) -> Schedule:
    schedule = Schedule.objects.create(name="Helpdesk", timezone=zone, is_active=active)
    for weekday, start, end in intervals:
        WeeklyInterval.objects.create(
            schedule=schedule,
            weekday=weekday,
            start=time.fromisoformat(start),
            end=time.fromisoformat(end),
        )
    for day in holidays:
        Holiday.objects.create(schedule=schedule, date=day)
    return schedule


def office_days(start: str = "09:00", end: str = "17:00") -> list[tuple[int, str, str]]:
    return [(day, start, end) for day in WORKDAYS]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


SECOND = timedelta(seconds=1)


# --- no schedule / empty schedule ---------------------------------------------------


def test_without_any_schedule_the_helpdesk_is_always_open() -> None:
    at = utc(2025, 1, 5, 3, 0)  # a Sunday night
    assert services.active_schedule() is None
    assert services.is_open(at) is True
    assert services.next_opening(at) == at
    assert services.describe_next_opening(at) == "now"


def test_an_inactive_schedule_is_not_used() -> None:
    make_schedule(intervals=office_days(), active=False)
    assert services.active_schedule() is None
    assert services.is_open(utc(2025, 1, 5, 3, 0)) is True


def test_a_schedule_without_intervals_never_opens() -> None:
    make_schedule(intervals=[])
    at = utc(2025, 1, 6, 10, 0)
    assert services.is_open(at) is False
    assert services.next_opening(at) is None
    assert services.describe_next_opening(at) == "no opening time is scheduled"


def test_naive_datetimes_are_refused() -> None:
    schedule = make_schedule(intervals=office_days())
    with pytest.raises(ValueError, match="aware"):
        services.is_open(datetime(2025, 1, 6, 10, 0), schedule=schedule)
    with pytest.raises(ValueError, match="aware"):
        services.next_opening(datetime(2025, 1, 6, 10, 0), schedule=schedule)


# --- boundaries ---------------------------------------------------------------------


def test_open_exactly_at_start_and_closed_exactly_at_end() -> None:
    schedule = make_schedule(intervals=office_days())
    monday_9 = london(2025, 1, 6, 9, 0)
    monday_17 = london(2025, 1, 6, 17, 0)
    assert services.is_open(monday_9 - SECOND, schedule=schedule) is False
    assert services.is_open(monday_9, schedule=schedule) is True
    assert services.is_open(monday_17 - SECOND, schedule=schedule) is True
    assert services.is_open(monday_17, schedule=schedule) is False


def test_weekend_is_closed_without_intervals() -> None:
    schedule = make_schedule(intervals=office_days())
    assert services.is_open(london(2025, 1, 4, 12, 0), schedule=schedule) is False  # Saturday
    assert services.is_open(london(2025, 1, 5, 12, 0), schedule=schedule) is False  # Sunday


def test_the_instant_is_what_counts_not_the_zone_it_is_written_in() -> None:
    schedule = make_schedule(intervals=office_days())
    # 09:00 London in January is 04:00 in New York and 09:00 UTC.
    assert services.is_open(new_york(2025, 1, 6, 4, 0), schedule=schedule) is True
    assert services.is_open(new_york(2025, 1, 6, 3, 59), schedule=schedule) is False
    # In summer London is on BST: 09:00 local is 08:00 UTC.
    assert services.is_open(utc(2025, 7, 7, 8, 0), schedule=schedule) is True
    assert services.is_open(utc(2025, 7, 7, 7, 59, 59), schedule=schedule) is False
    assert services.is_open(utc(2025, 7, 7, 16, 0), schedule=schedule) is False


def test_overlapping_intervals_are_a_union() -> None:
    schedule = make_schedule(intervals=[(MON, "09:00", "12:00"), (MON, "11:00", "14:00")])
    assert services.is_open(london(2025, 1, 6, 13, 0), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 6, 14, 0), schedule=schedule) is False


# --- midnight -------------------------------------------------------------------------


def test_interval_crossing_midnight_runs_into_the_next_day() -> None:
    schedule = make_schedule(intervals=[(FRI, "22:00", "06:00")])
    assert services.is_open(london(2025, 1, 10, 21, 59, 59), schedule=schedule) is False
    assert services.is_open(london(2025, 1, 10, 22, 0), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 11, 0, 0), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 11, 5, 59, 59), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 11, 6, 0), schedule=schedule) is False
    # Saturday 22:00 has no interval of its own.
    assert services.is_open(london(2025, 1, 11, 23, 0), schedule=schedule) is False


def test_interval_ending_at_midnight_closes_at_midnight() -> None:
    schedule = make_schedule(intervals=[(MON, "18:00", "00:00")])
    assert services.is_open(london(2025, 1, 6, 23, 59, 59), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 7, 0, 0), schedule=schedule) is False


def test_midnight_to_midnight_is_the_whole_day() -> None:
    schedule = make_schedule(intervals=[(WED, "00:00", "00:00")])
    assert services.is_open(london(2025, 1, 7, 23, 59, 59), schedule=schedule) is False
    assert services.is_open(london(2025, 1, 8, 0, 0), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 8, 12, 0), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 8, 23, 59, 59), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 9, 0, 0), schedule=schedule) is False


def test_equal_start_and_end_is_twenty_four_hours() -> None:
    schedule = make_schedule(intervals=[(MON, "09:00", "09:00")])
    assert services.is_open(london(2025, 1, 7, 8, 59, 59), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 7, 9, 0), schedule=schedule) is False


def test_seven_full_days_are_always_open() -> None:
    schedule = make_schedule(zone="UTC", intervals=[(day, "00:00", "00:00") for day in Weekday])
    start = utc(2025, 1, 1, 0, 0)
    for hour in range(0, 24 * 14, 7):
        assert services.is_open(start + timedelta(hours=hour), schedule=schedule) is True


# --- holidays -------------------------------------------------------------------------


def test_holiday_closes_the_intervals_of_that_date() -> None:
    schedule = make_schedule(intervals=office_days(), holidays=[date(2025, 1, 6)])
    assert services.is_open(london(2025, 1, 6, 10, 0), schedule=schedule) is False
    assert services.is_open(london(2025, 1, 7, 10, 0), schedule=schedule) is True


def test_overnight_interval_that_started_before_a_holiday_runs_to_its_end() -> None:
    # Friday 22:00 - Saturday 06:00, Saturday is a holiday: Friday's shift still runs.
    schedule = make_schedule(intervals=[(FRI, "22:00", "06:00")], holidays=[date(2025, 1, 11)])
    assert services.is_open(london(2025, 1, 10, 23, 0), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 11, 5, 0), schedule=schedule) is True
    assert services.is_open(london(2025, 1, 11, 6, 0), schedule=schedule) is False


def test_holiday_on_the_start_date_closes_the_whole_overnight_interval() -> None:
    schedule = make_schedule(intervals=[(FRI, "22:00", "06:00")], holidays=[date(2025, 1, 10)])
    assert services.is_open(london(2025, 1, 10, 23, 0), schedule=schedule) is False
    assert services.is_open(london(2025, 1, 11, 5, 0), schedule=schedule) is False


def test_holiday_does_not_close_the_following_day() -> None:
    schedule = make_schedule(
        intervals=[(day, "00:00", "00:00") for day in Weekday], holidays=[date(2025, 12, 25)]
    )
    assert services.is_open(london(2025, 12, 24, 23, 59, 59), schedule=schedule) is True
    assert services.is_open(london(2025, 12, 25, 0, 0), schedule=schedule) is False
    assert services.is_open(london(2025, 12, 25, 23, 59, 59), schedule=schedule) is False
    assert services.is_open(london(2025, 12, 26, 0, 0), schedule=schedule) is True


# --- next opening ---------------------------------------------------------------------


def test_next_opening_returns_the_instant_itself_when_open() -> None:
    schedule = make_schedule(intervals=office_days())
    at = utc(2025, 1, 6, 10, 30)
    opening = services.next_opening(at, schedule=schedule)
    assert opening == at
    assert opening is not None and opening.tzinfo == UTC
    assert services.describe_next_opening(at, schedule=schedule) == "now"


def test_next_opening_later_the_same_day() -> None:
    schedule = make_schedule(intervals=office_days())
    at = london(2025, 1, 6, 7, 15)
    assert services.next_opening(at, schedule=schedule) == london(2025, 1, 6, 9, 0)


def test_next_opening_is_strictly_after_a_closing_instant() -> None:
    schedule = make_schedule(intervals=office_days())
    assert services.next_opening(london(2025, 1, 6, 17, 0), schedule=schedule) == london(
        2025, 1, 7, 9, 0
    )


def test_next_opening_skips_the_weekend() -> None:
    schedule = make_schedule(intervals=office_days())
    friday_evening = london(2025, 1, 10, 17, 0)
    opening = services.next_opening(friday_evening, schedule=schedule)
    assert opening == london(2025, 1, 13, 9, 0)
    assert opening is not None and opening.tzinfo == UTC
    assert (
        services.describe_next_opening(friday_evening, schedule=schedule)
        == "Monday 09:00 (Europe/London)"
    )
    # Sunday late evening also points at Monday morning.
    assert services.next_opening(london(2025, 1, 12, 23, 30), schedule=schedule) == london(
        2025, 1, 13, 9, 0
    )


def test_next_opening_skips_holidays() -> None:
    # Christmas Thursday and Boxing Day Friday: closed from Wednesday evening to Monday.
    schedule = make_schedule(
        intervals=office_days(), holidays=[date(2025, 12, 25), date(2025, 12, 26)]
    )
    at = london(2025, 12, 24, 17, 30)
    assert services.next_opening(at, schedule=schedule) == london(2025, 12, 29, 9, 0)
    assert services.describe_next_opening(at, schedule=schedule) == ("Monday 09:00 (Europe/London)")


def test_next_opening_inside_an_overnight_interval_from_before_midnight() -> None:
    schedule = make_schedule(intervals=[(SUN, "22:00", "06:00")])
    # Monday 03:00 is inside Sunday's shift.
    at = london(2025, 1, 13, 3, 0)
    assert services.next_opening(at, schedule=schedule) == at
    # Monday 06:00 it is over: next is the following Sunday 22:00.
    assert services.next_opening(london(2025, 1, 13, 6, 0), schedule=schedule) == london(
        2025, 1, 19, 22, 0
    )


def test_describe_adds_the_date_when_the_opening_is_a_week_or_more_away() -> None:
    holidays = [date(2025, 8, 4) + timedelta(days=n) for n in range(14)]
    schedule = make_schedule(intervals=office_days(), holidays=holidays)
    at = london(2025, 8, 1, 18, 0)  # Friday; the next two weeks are a holiday
    assert services.next_opening(at, schedule=schedule) == london(2025, 8, 18, 9, 0)
    assert services.describe_next_opening(at, schedule=schedule) == (
        "Monday 18 August 09:00 (Europe/London)"
    )


def test_next_opening_gives_up_past_the_horizon() -> None:
    # Open on Mondays only, and every Monday for more than the horizon is a holiday.
    first_monday = date(2025, 1, 6)
    mondays = [first_monday + timedelta(weeks=n) for n in range(60)]
    schedule = make_schedule(intervals=[(MON, "09:00", "17:00")], holidays=mondays)
    at = london(2025, 1, 5, 12, 0)
    assert services.next_opening(at, schedule=schedule) is None
    assert services.describe_next_opening(at, schedule=schedule) == ("no opening time is scheduled")


def test_next_opening_finds_an_opening_almost_a_year_away() -> None:
    first_monday = date(2025, 1, 6)
    mondays = [first_monday + timedelta(weeks=n) for n in range(52)]
    schedule = make_schedule(intervals=[(MON, "09:00", "17:00")], holidays=mondays)
    at = london(2025, 1, 5, 12, 0)
    assert services.next_opening(at, schedule=schedule) == london(2026, 1, 5, 9, 0)


def test_default_schedule_is_the_active_one() -> None:
    make_schedule(intervals=office_days(), active=False)
    make_schedule(zone="America/New_York", intervals=[(SAT, "10:00", "12:00")])
    at = new_york(2025, 1, 11, 10, 30)  # Saturday
    assert services.is_open(at) is True
    assert services.next_opening(new_york(2025, 1, 11, 12, 0)) == new_york(2025, 1, 18, 10, 0)
    assert (
        services.describe_next_opening(new_york(2025, 1, 11, 12, 0))
        == "Saturday 18 January 10:00 (America/New_York)"
    )


def test_is_open_costs_a_fixed_number_of_queries(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    make_schedule(
        intervals=office_days(), holidays=[date(2025, 1, 1) + timedelta(days=n) for n in range(30)]
    )
    # The active schedule, its intervals, its holidays.
    with django_assert_num_queries(3):
        services.is_open(utc(2025, 6, 2, 10, 0))
    with django_assert_num_queries(3):
        services.next_opening(utc(2025, 6, 7, 10, 0))


# --- "now" with time-machine -----------------------------------------------------------


def test_client_dialog_on_a_friday_evening_sees_monday() -> None:
    make_schedule(intervals=office_days())
    with time_machine.travel(london(2025, 1, 10, 18, 45), tick=False):
        now = timezone.now()
        assert services.is_open(now) is False
        assert services.describe_next_opening(now) == "Monday 09:00 (Europe/London)"
    with time_machine.travel(london(2025, 1, 13, 9, 0), tick=False):
        assert services.is_open(timezone.now()) is True


# --- DST: Europe/London -----------------------------------------------------------------
# 2025-03-30: 01:00 GMT -> 02:00 BST (01:00-02:00 local does not exist).
# 2025-10-26: 02:00 BST -> 01:00 GMT (01:00-02:00 local happens twice).


def test_london_spring_forward_full_day_lasts_23_hours() -> None:
    schedule = make_schedule(intervals=[(SUN, "00:00", "00:00")])
    assert services.is_open(utc(2025, 3, 29, 23, 59, 59), schedule=schedule) is False
    assert services.is_open(utc(2025, 3, 30, 0, 0), schedule=schedule) is True
    assert services.is_open(utc(2025, 3, 30, 22, 59, 59), schedule=schedule) is True
    # Monday 00:00 BST is Sunday 23:00 UTC.
    assert services.is_open(utc(2025, 3, 30, 23, 0), schedule=schedule) is False


def test_london_start_inside_the_gap_opens_at_the_end_of_the_gap() -> None:
    schedule = make_schedule(intervals=[(SUN, "01:30", "03:00")])
    # 00:59:59 UTC is 00:59:59 GMT: before the gap, still closed.
    assert services.is_open(utc(2025, 3, 30, 0, 59, 59), schedule=schedule) is False
    # 01:00 UTC is 02:00 BST, the first real instant after the gap.
    assert services.is_open(utc(2025, 3, 30, 1, 0), schedule=schedule) is True
    assert services.is_open(utc(2025, 3, 30, 1, 59, 59), schedule=schedule) is True
    assert services.is_open(utc(2025, 3, 30, 2, 0), schedule=schedule) is False  # 03:00 BST
    opening = services.next_opening(utc(2025, 3, 30, 0, 0), schedule=schedule)
    assert opening == utc(2025, 3, 30, 1, 0)
    assert opening is not None
    assert opening.astimezone(LONDON).strftime("%H:%M %Z") == "02:00 BST"
    assert (
        services.describe_next_opening(utc(2025, 3, 30, 0, 0), schedule=schedule)
        == "Sunday 02:00 (Europe/London)"
    )


def test_london_end_inside_the_gap_closes_at_the_end_of_the_gap() -> None:
    schedule = make_schedule(intervals=[(SAT, "22:00", "01:30")])
    assert services.is_open(utc(2025, 3, 30, 0, 59, 59), schedule=schedule) is True
    assert services.is_open(utc(2025, 3, 30, 1, 0), schedule=schedule) is False


def test_london_interval_entirely_inside_the_gap_never_opens() -> None:
    schedule = make_schedule(intervals=[(SUN, "01:10", "01:50")])
    for minute in range(0, 180, 5):
        at = utc(2025, 3, 30, 0, 0) + timedelta(minutes=minute)
        assert services.is_open(at, schedule=schedule) is False
    # The following Sunday it exists again: 01:10 BST = 00:10 UTC.
    assert services.next_opening(utc(2025, 3, 30, 0, 0), schedule=schedule) == utc(
        2025, 4, 6, 0, 10
    )


def test_london_fall_back_full_day_lasts_25_hours() -> None:
    schedule = make_schedule(intervals=[(SUN, "00:00", "00:00")])
    # Sunday 00:00 BST = Saturday 23:00 UTC; Monday 00:00 GMT = Monday 00:00 UTC.
    assert services.is_open(utc(2025, 10, 25, 22, 59, 59), schedule=schedule) is False
    assert services.is_open(utc(2025, 10, 25, 23, 0), schedule=schedule) is True
    assert services.is_open(utc(2025, 10, 26, 23, 59, 59), schedule=schedule) is True
    assert services.is_open(utc(2025, 10, 27, 0, 0), schedule=schedule) is False


def test_london_ambiguous_start_uses_the_first_occurrence() -> None:
    schedule = make_schedule(intervals=[(SUN, "01:30", "05:00")])
    # First 01:30 is BST = 00:30 UTC.
    assert services.is_open(utc(2025, 10, 26, 0, 29, 59), schedule=schedule) is False
    assert services.is_open(utc(2025, 10, 26, 0, 30), schedule=schedule) is True
    assert services.next_opening(utc(2025, 10, 26, 0, 0), schedule=schedule) == utc(
        2025, 10, 26, 0, 30
    )
    assert (
        services.describe_next_opening(utc(2025, 10, 26, 0, 0), schedule=schedule)
        == "Sunday 01:30 (Europe/London)"
    )


def test_london_ambiguous_end_uses_the_first_occurrence() -> None:
    schedule = make_schedule(intervals=[(SUN, "00:00", "01:30")])
    assert services.is_open(utc(2025, 10, 26, 0, 29, 59), schedule=schedule) is True
    assert services.is_open(utc(2025, 10, 26, 0, 30), schedule=schedule) is False
    # The second 01:10 (GMT, 01:10 UTC) is after the close.
    assert services.is_open(utc(2025, 10, 26, 1, 10), schedule=schedule) is False


def test_london_office_days_across_the_spring_change() -> None:
    schedule = make_schedule(intervals=office_days())
    # Friday 28 March: GMT, 09:00 local = 09:00 UTC.
    friday_close = utc(2025, 3, 28, 17, 0)
    # Monday 31 March: BST, 09:00 local = 08:00 UTC.
    assert services.next_opening(friday_close, schedule=schedule) == utc(2025, 3, 31, 8, 0)
    assert (
        services.describe_next_opening(friday_close, schedule=schedule)
        == "Monday 09:00 (Europe/London)"
    )


# --- DST: America/New_York ---------------------------------------------------------------
# 2025-03-09: 02:00 EST -> 03:00 EDT. 2025-11-02: 02:00 EDT -> 01:00 EST.


def test_new_york_spring_forward_start_inside_the_gap() -> None:
    schedule = make_schedule(zone="America/New_York", intervals=[(SUN, "02:30", "04:00")])
    # 03:00 EDT = 07:00 UTC is the first real instant after the gap.
    assert services.is_open(utc(2025, 3, 9, 6, 59, 59), schedule=schedule) is False
    assert services.is_open(utc(2025, 3, 9, 7, 0), schedule=schedule) is True
    assert services.is_open(utc(2025, 3, 9, 8, 0), schedule=schedule) is False  # 04:00 EDT
    assert services.next_opening(utc(2025, 3, 9, 5, 0), schedule=schedule) == new_york(
        2025, 3, 9, 3, 0
    )


def test_new_york_weekend_across_spring_forward() -> None:
    schedule = make_schedule(zone="America/New_York", intervals=office_days())
    # Friday 17:00 EST = 22:00 UTC; Monday 09:00 EDT = 13:00 UTC.
    assert services.next_opening(utc(2025, 3, 7, 22, 0), schedule=schedule) == utc(
        2025, 3, 10, 13, 0
    )
    assert services.is_open(utc(2025, 3, 10, 12, 59, 59), schedule=schedule) is False
    assert services.is_open(utc(2025, 3, 10, 13, 0), schedule=schedule) is True


def test_new_york_fall_back_interval_through_the_repeated_hour() -> None:
    schedule = make_schedule(zone="America/New_York", intervals=[(SUN, "01:30", "02:30")])
    # Opens at the first 01:30 (EDT, 05:30 UTC); 02:30 exists once (EST, 07:30 UTC).
    assert services.is_open(utc(2025, 11, 2, 5, 29, 59), schedule=schedule) is False
    assert services.is_open(utc(2025, 11, 2, 5, 30), schedule=schedule) is True
    assert services.is_open(utc(2025, 11, 2, 6, 45), schedule=schedule) is True  # 01:45 EST
    assert services.is_open(utc(2025, 11, 2, 7, 29, 59), schedule=schedule) is True
    assert services.is_open(utc(2025, 11, 2, 7, 30), schedule=schedule) is False


def test_new_york_overnight_interval_over_fall_back_lasts_nine_hours() -> None:
    schedule = make_schedule(zone="America/New_York", intervals=[(SAT, "22:00", "06:00")])
    # Saturday 22:00 EDT = Sunday 02:00 UTC; Sunday 06:00 EST = 11:00 UTC.
    assert services.is_open(utc(2025, 11, 2, 1, 59, 59), schedule=schedule) is False
    assert services.is_open(utc(2025, 11, 2, 2, 0), schedule=schedule) is True
    assert services.is_open(utc(2025, 11, 2, 10, 59, 59), schedule=schedule) is True
    assert services.is_open(utc(2025, 11, 2, 11, 0), schedule=schedule) is False


# --- activation -----------------------------------------------------------------------


def test_only_one_schedule_can_be_active() -> None:
    make_schedule()
    with pytest.raises(IntegrityError):
        make_schedule()


def test_schedule_activate_swaps_the_active_schedule() -> None:
    old = make_schedule(intervals=office_days())
    new = make_schedule(zone="UTC", intervals=[(SAT, "00:00", "00:00")], active=False)
    services.schedule_activate(schedule=new)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_active, new.is_active) == (False, True)
    assert services.active_schedule() == new
    # Activating the active one again changes nothing.
    services.schedule_activate(schedule=new)
    assert list(Schedule.objects.filter(is_active=True)) == [new]


# --- consistency sweep --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "first_day"),
    [
        ("Europe/London", date(2025, 3, 28)),
        ("Europe/London", date(2025, 10, 24)),
        ("America/New_York", date(2025, 3, 7)),
        ("America/New_York", date(2025, 10, 31)),
    ],
)
def test_next_opening_agrees_with_is_open_minute_by_minute(zone: str, first_day: date) -> None:
    """Across a DST weekend: whenever closed, nothing between now and
    next_opening() is open, and next_opening() itself is open."""
    make_schedule(
        zone=zone,
        intervals=[
            *office_days("08:30", "17:30"),
            (FRI, "22:00", "02:30"),
            (SAT, "01:30", "03:00"),
            (SUN, "00:00", "01:45"),
            (SUN, "02:15", "02:45"),
            (SUN, "23:00", "00:00"),
        ],
        holidays=[first_day + timedelta(days=3)],
    )
    schedule = Schedule.objects.prefetch_related("intervals", "holidays").get()
    step = timedelta(minutes=5)
    start = datetime.combine(first_day, time(0, 0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    samples = [start + step * n for n in range(int(timedelta(days=4) / step))]
    states = [services.is_open(at, schedule=schedule) for at in samples]
    assert any(states) and not all(states)
    # The first open sample after each sample, found walking backwards.
    first_open_after: list[datetime | None] = [None] * len(samples)
    for index in range(len(samples) - 2, -1, -1):
        following = index + 1
        first_open_after[index] = (
            samples[following] if states[following] else first_open_after[following]
        )
    for index, at in enumerate(samples):
        opening = services.next_opening(at, schedule=schedule)
        assert opening is not None
        if states[index]:
            assert opening == at
            continue
        assert opening > at
        assert services.is_open(opening, schedule=schedule) is True
        assert services.is_open(opening - SECOND, schedule=schedule) is False
        later = first_open_after[index]
        if later is not None:
            # The first open sample is at or after the opening, within one step.
            assert opening <= later < opening + step
