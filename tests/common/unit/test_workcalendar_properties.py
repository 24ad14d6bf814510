"""The table-driven working calendar gives exactly what the day-by-day reference gives: the same
instant (zone and fold included), the same working time, the same error and message, on the real
calendar, on a DST zone with custom periods and on random calendars, at the range's edges too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from services.common.calendar_data import load_calendar
from services.common.workcalendar import CalendarRangeError, WorkingCalendar, WorkingHours
from tests.common.unit.workcalendar_reference import ReferenceCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NAIVE, AWARE = datetime(2025, 3, 18, 9), datetime(2025, 3, 18, 9, tzinfo=UTC)
REAL = load_calendar()  # 2024-2027: Tết, swapped days, make-up Saturdays
# Clock changes fall on Sundays, so those are make-up days here. 01:00-02:30 crosses the hour
# that is skipped in March and repeated in October; 10:15 is where two periods touch.
BERLIN_CAL = WorkingCalendar(
    {date(2025, 4, 18), date(2025, 12, 25), date(2026, 3, 30)},
    {date(2025, 3, 29), date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29),
     date(2026, 10, 25)},
    WorkingHours(((time(1), time(2, 30)), (time(6), time(10, 15)), (time(10, 15), time(12)),
                  (time(13), time(23, 59))), BERLIN),
    first_year=2025,
    last_year=2026,
)
# DST at 02:00 local, at midnight (Santiago), by half an hour (Lord Howe); and none at all.
ZONES = ["Asia/Ho_Chi_Minh", "Europe/Berlin", "America/New_York", "America/Santiago",
         "Australia/Lord_Howe", "UTC"]
many = settings(max_examples=300, deadline=None)
few = settings(max_examples=100, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def result(call: Callable[..., Any], *args: Any) -> tuple[object, ...]:
    try:
        value = call(*args)
    except (ValueError, OverflowError) as exc:  # CalendarRangeError is a ValueError
        return ("raised", type(exc), str(exc))
    return ("returned", repr(value))  # repr shows the zone and the fold; == would not


def clock_changes(tz: ZoneInfo, first_year: int, last_year: int) -> list[date]:
    """The local days around each change of UTC offset."""
    days, d = [], date(first_year, 1, 1)
    while d.year <= last_year:
        nxt = d + timedelta(days=1)
        if datetime.combine(d, time(0), tz).utcoffset() != datetime.combine(
            nxt, time(0), tz
        ).utcoffset():
            days += [d, nxt]  # a change at midnight may belong to either
        d = nxt
    return days


@lru_cache(maxsize=8)  # drawn for every instant; calendars hash by identity
def special_days(cal: WorkingCalendar) -> list[date]:
    """The range's edges and just beyond, days off, make-up days, the zone's clock changes."""
    first, last = date(cal.first_year, 1, 1), date(cal.last_year, 12, 31)
    days = [first + timedelta(days=n) for n in range(-2, 3)]
    days += [last + timedelta(days=n) for n in range(-2, 3)]
    days += sorted(cal.days_off) + sorted(cal.working_weekend_days)
    return days + clock_changes(cal.hours.tz, cal.first_year, cal.last_year)


NUDGES = [timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1),
          timedelta(seconds=1), -timedelta(seconds=1), timedelta(minutes=1), -timedelta(minutes=1)]


@st.composite
def instants(draw: st.DrawFn, cal: WorkingCalendar) -> datetime:
    """Any instant a few days either side of the calendar, often on a period bound (07:00,
    11:30, 13:30, 17:00 on the real calendar) or a microsecond to a minute off one."""
    tz = cal.hours.tz
    lo, hi = date(cal.first_year, 1, 1), date(cal.last_year, 12, 31)
    day = draw(st.one_of(st.dates(lo - timedelta(days=3), hi + timedelta(days=3)),
                         st.sampled_from(special_days(cal))))
    bounds = [t for p in cal.hours.periods for t in p]
    clock = draw(st.one_of(st.sampled_from([*bounds, time(0)]), st.times()))
    local = datetime.combine(day, clock, tz).replace(fold=draw(st.integers(0, 1)))
    nudge = draw(st.one_of(st.sampled_from(NUDGES),
                           st.timedeltas(-timedelta(days=2), timedelta(days=2))))
    shown_in = draw(st.sampled_from([tz, UTC, timezone(timedelta(hours=-5, minutes=-30))]))
    return (local.astimezone(UTC) + nudge).astimezone(shown_in)


def amounts(cal: WorkingCalendar) -> st.SearchStrategy[timedelta]:
    per_day = cal.hours.minutes_per_day
    years = cal.last_year - cal.first_year + 1
    minutes = st.one_of(
        st.just(0),
        st.integers(0, 3 * per_day),
        st.integers(0, 60).map(lambda k: k * per_day),  # whole days: the `>` / `>=` edges
        st.integers(0, 370 * years * per_day),  # far enough to run off the calendar
    )
    extra = st.one_of(st.just(0), st.integers(0, 59_999_999))
    return st.builds(lambda m, us: timedelta(minutes=m, microseconds=us), minutes, extra)


def check(fast: WorkingCalendar, a: datetime, b: datetime, amount: timedelta,
          ref: ReferenceCalendar | None = None) -> None:
    ref = ref or ReferenceCalendar.like(fast)
    calls: list[tuple[str, tuple[Any, ...]]] = [
        ("working_time_between", (a, b)),
        ("working_time_between", (b, a)),
        ("working_minutes_between", (a, b)),
        ("add_working_time", (a, amount)),
        ("subtract_working_time", (a, amount)),
        ("next_working_instant", (a,)),
    ]
    try:  # exactly the time between two instants: lands on period ends and starts
        exact = ref.working_time_between(*sorted((a, b)))
    except CalendarRangeError:
        pass
    else:
        calls += [("add_working_time", (min(a, b), exact)),
                  ("subtract_working_time", (max(a, b), exact))]
    for name, args in calls:
        assert result(getattr(fast, name), *args) == result(getattr(ref, name), *args), (name, args)


REAL_REF = ReferenceCalendar.like(REAL)
BERLIN_REF = ReferenceCalendar.like(BERLIN_CAL)


@many
@given(instants(REAL), instants(REAL), amounts(REAL))
def test_real_calendar_matches_the_reference(a: datetime, b: datetime, amount: timedelta) -> None:
    check(REAL, a, b, amount, REAL_REF)


@many
@given(instants(BERLIN_CAL), instants(BERLIN_CAL), amounts(BERLIN_CAL))
def test_a_dst_zone_with_custom_periods_matches_the_reference(
    a: datetime, b: datetime, amount: timedelta
) -> None:
    check(BERLIN_CAL, a, b, amount, BERLIN_REF)


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    first = draw(st.integers(2023, 2027))
    last = first + draw(st.integers(0, 1))
    lo, hi = date(first, 1, 1), date(last, 12, 31)
    periods: list[tuple[time, time]] = []
    start = draw(st.integers(0, 720))
    for _ in range(draw(st.integers(1, 4))):
        end = start + draw(st.integers(1, 480))
        if end > 23 * 60 + 59:
            break
        periods.append((time(start // 60, start % 60), time(end // 60, end % 60)))
        start = end + draw(st.integers(0, 180))  # 0: touching periods
    assume(periods)
    days_off = draw(st.sets(st.dates(lo, hi), max_size=40))
    working = {d for d in draw(st.sets(st.dates(lo, hi), max_size=20)) if d.weekday() >= 5}
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    changes = [d for d in clock_changes(tz, first, last) if d.weekday() >= 5]
    if changes:  # clock changes are mostly at weekends: work some of them
        working |= draw(st.sets(st.sampled_from(changes)))
    hours = WorkingHours(tuple(periods), tz)
    try:
        return WorkingCalendar(days_off, working - days_off, hours, first_year=first,
                               last_year=last)
    except ValueError as exc:  # a period bound in a DST gap: refused, see the test below
        assert "clock change" in str(exc)
        assume(False)
        raise


@few
@given(st.data())
def test_random_calendars_match_the_reference(data: st.DataObject) -> None:
    cal = data.draw(calendars())
    ref = ReferenceCalendar.like(cal)
    for _ in range(5):
        a, b = data.draw(instants(cal)), data.draw(instants(cal))
        check(cal, a, b, data.draw(amounts(cal)), ref)


@many
@given(st.sampled_from([REAL, BERLIN_CAL]), st.data())
def test_the_range_edges_match_the_reference(cal: WorkingCalendar, data: st.DataObject) -> None:
    """Near the first and last days: running off either end is the same CalendarRangeError."""
    edge = data.draw(st.sampled_from([datetime(cal.first_year, 1, 1, tzinfo=cal.hours.tz),
                                      datetime(cal.last_year + 1, 1, 1, tzinfo=cal.hours.tz)]))
    near = st.timedeltas(-timedelta(days=6), timedelta(days=6)).map(lambda d: edge + d)
    small = st.integers(0, 5 * cal.hours.minutes_per_day).map(lambda m: timedelta(minutes=m))
    ref = REAL_REF if cal is REAL else BERLIN_REF
    check(cal, data.draw(near), data.draw(near), data.draw(small), ref)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("working_time_between", (NAIVE, AWARE)),
        ("working_time_between", (AWARE, NAIVE)),
        ("working_time_between", (NAIVE, NAIVE)),
        ("add_working_time", (NAIVE, timedelta(0))),
        ("add_working_time", (AWARE, -timedelta(microseconds=1))),
        ("add_working_time", (NAIVE, -timedelta(1))),  # the amount is checked first
        ("subtract_working_time", (NAIVE, timedelta(0))),
        ("subtract_working_time", (AWARE, -timedelta(microseconds=1))),
        ("subtract_working_time", (NAIVE, -timedelta(1))),
    ],
)
def test_bad_arguments_fail_as_before(name: str, args: tuple[Any, ...]) -> None:
    got = result(getattr(REAL, name), *args)
    assert got[0] == "raised" and got == result(getattr(REAL_REF, name), *args)


def test_periods_that_a_clock_change_puts_out_of_order_are_refused() -> None:
    # On 30/3/2025 02:30 does not exist in Berlin; 02:30-03:15 would be -15 minutes in UTC,
    # which the day-by-day walk used to add up as negative working time.
    hours = WorkingHours(((time(2, 30), time(3, 15)),), BERLIN)
    sunday = date(2025, 3, 30)
    with pytest.raises(ValueError, match="clock change"):
        WorkingCalendar([], [sunday], hours, first_year=2025, last_year=2025)
    # Only working days are laid out: with that Sunday off, or no clock change, they are fine.
    WorkingCalendar([], [], hours, first_year=2025, last_year=2025)
    WorkingCalendar([], [], WorkingHours(hours.periods, ZoneInfo("Asia/Tokyo")),
                    first_year=2025, last_year=2025)
