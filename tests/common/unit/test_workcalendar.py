"""The working calendar on a small hand-built calendar (March 2025), independent of the data files.

March 2025: Mon 17 .. Fri 21, Sat 22, Sun 23. Here Wed 19 is a day off and Sat 22 a make-up
working Saturday.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.common.workcalendar import CalendarRangeError, WorkingCalendar, WorkingHours

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar({date(2025, 3, 19)}, {date(2025, 3, 22)}, first_year=2025, last_year=2025)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=VN)


def test_default_hours_are_the_domain_hours() -> None:
    hours = WorkingHours()
    assert hours.periods == ((time(7), time(11, 30)), (time(13, 30), time(17)))
    assert hours.tz == VN
    assert hours.minutes_per_day == 480


@pytest.mark.parametrize(
    "periods",
    [
        (),
        ((time(11), time(7)),),
        ((time(7), time(12)), (time(11), time(17))),
        ((time(7, 0, 30), time(12)),),
    ],
)
def test_working_hours_reject_bad_periods(periods: tuple[tuple[time, time], ...]) -> None:
    with pytest.raises(ValueError):
        WorkingHours(periods)


def test_calendar_rejects_contradictory_days() -> None:
    with pytest.raises(ValueError, match="Saturdays or Sundays"):
        WorkingCalendar([], [date(2025, 3, 17)], first_year=2025, last_year=2025)
    with pytest.raises(ValueError, match="both off and working"):
        WorkingCalendar([date(2025, 3, 22)], [date(2025, 3, 22)], first_year=2025, last_year=2025)


def test_is_working_day() -> None:
    assert CAL.is_working_day(date(2025, 3, 18))
    assert not CAL.is_working_day(date(2025, 3, 19))  # day off
    assert CAL.is_working_day(date(2025, 3, 22))  # make-up Saturday
    assert not CAL.is_working_day(date(2025, 3, 23))  # plain Sunday


def test_dates_outside_the_range_raise_a_clear_error() -> None:
    with pytest.raises(CalendarRangeError, match="outside the working calendar"):
        CAL.is_working_day(date(2026, 1, 5))
    # Running off the end of the data while stepping forward is the same error.
    with pytest.raises(CalendarRangeError):
        CAL.add_working_minutes(datetime(2025, 12, 31, 16, tzinfo=VN), 480)
    assert issubclass(CalendarRangeError, ValueError)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(18, 9), at(18, 9)),  # inside a period: itself
        (at(18, 7), at(18, 7)),  # a period's start is working time
        (at(18, 6), at(18, 7)),
        (at(18, 11, 30), at(18, 13, 30)),  # a period's end is not working time
        (at(18, 12), at(18, 13, 30)),
        (at(18, 17), at(20, 7)),  # Wed 19 is off
        (at(21, 17), at(22, 7)),  # make-up Saturday
        (at(22, 18), at(24, 7)),  # Sunday skipped
    ],
)
def test_next_working_instant(moment: datetime, expected: datetime) -> None:
    assert CAL.next_working_instant(moment) == expected


def test_any_timezone_in_calendar_timezone_out() -> None:
    # 02:00 UTC is 09:00 in Ho Chi Minh City.
    result = CAL.next_working_instant(datetime(2025, 3, 18, 2, tzinfo=UTC))
    assert result == at(18, 9)
    assert result.tzinfo == VN


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        CAL.next_working_instant(datetime(2025, 3, 18, 9))
    with pytest.raises(ValueError, match="naive"):
        CAL.working_minutes_between(datetime(2025, 3, 18, 9), at(18, 10))


def test_add_minutes_within_a_period_and_across_lunch() -> None:
    assert CAL.add_working_minutes(at(18, 9), 60) == at(18, 10)
    # 09:00-11:30 is 150 minutes; the other 30 start at 13:30.
    assert CAL.add_working_minutes(at(18, 9), 180) == at(18, 14)


def test_a_due_instant_ending_a_period_is_that_period_end() -> None:
    assert CAL.add_working_minutes(at(18, 7), 270) == at(18, 11, 30)
    assert CAL.add_working_minutes(at(18, 7), 480) == at(18, 17)
    # Tue 17:00 then 480 more: Wed 19 is off, so the whole of Thu 20.
    assert CAL.add_working_minutes(at(18, 7), 960) == at(20, 17)


def test_zero_minutes_is_the_next_working_instant() -> None:
    assert CAL.add_working_minutes(at(18, 17), 0) == at(20, 7)
    assert CAL.add_working_minutes(at(18, 9), 0) == at(18, 9)


def test_start_outside_working_time_counts_from_the_next_period() -> None:
    assert CAL.add_working_minutes(at(18, 12), 30) == at(18, 14)
    assert CAL.add_working_minutes(at(18, 20), 30) == at(20, 7, 30)


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_minutes(at(18, 9), -1)
    with pytest.raises(ValueError):
        CAL.subtract_working_minutes(at(18, 9), -1)


def test_working_minutes_between() -> None:
    assert CAL.working_minutes_between(at(18, 10), at(18, 9)) == 0
    assert CAL.working_minutes_between(at(18, 9), at(18, 14)) == 180
    # Tue 16:00 .. Thu 08:00: 60 on Tuesday, Wednesday off, 60 on Thursday.
    assert CAL.working_minutes_between(at(18, 16), at(20, 8)) == 120
    # Fri 16:00 .. Mon 08:00: make-up Saturday counts in full.
    assert CAL.working_minutes_between(at(21, 16), at(24, 8)) == 60 + 480 + 60


def test_working_minutes_between_floors_seconds() -> None:
    b = at(18, 9) + timedelta(minutes=10, seconds=59)
    assert CAL.working_minutes_between(at(18, 9), b) == 10
    assert CAL.working_time_between(at(18, 9), b) == timedelta(minutes=10, seconds=59)


def test_subtract_gives_the_earliest_instant_with_that_much_left() -> None:
    assert CAL.subtract_working_minutes(at(18, 10), 60) == at(18, 9)
    assert CAL.subtract_working_minutes(at(18, 14), 60) == at(18, 11)
    # From Thu 17:00 a full day back reaches Thu 07:00, which has as much left as Tue 17:00:
    # the earliest is Tue 17:00 (Wed 19 is off).
    assert CAL.subtract_working_minutes(at(20, 17), 480) == at(18, 17)
    assert CAL.subtract_working_minutes(at(20, 17), 0) == at(20, 17)


def test_days_and_hours_helpers() -> None:
    assert CAL.add_working_days(at(18, 7), 0.5) == at(18, 11)  # 240 minutes
    assert CAL.add_working_days(at(17, 16), 1) == at(18, 16)
    assert CAL.add_working_hours(at(18, 9), 1.5) == at(18, 10, 30)
    assert CAL.add_working_hours(at(18, 9), 3) == at(18, 14)


def test_sixty_working_days_step_by_day() -> None:
    # 2025 with no days off at all: 60 working days are exactly 12 weeks.
    plain = WorkingCalendar([], [], first_year=2025, last_year=2025)
    start = datetime(2025, 1, 6, 9, tzinfo=VN)
    assert plain.add_working_days(start, 60) == start + timedelta(weeks=12)
    assert plain.working_minutes_between(start, start + timedelta(weeks=12)) == 60 * 480


def test_custom_hours_and_zone() -> None:
    hours = WorkingHours(((time(8), time(12)), (time(13), time(17))), ZoneInfo("Asia/Bangkok"))
    cal = WorkingCalendar([], [], hours, first_year=2025, last_year=2025)
    assert hours.minutes_per_day == 480
    # 12:30 local is lunch; 60 minutes run from 13:00 to 14:00.
    result = cal.add_working_minutes(datetime(2025, 3, 18, 5, 30, tzinfo=UTC), 60)
    assert result == datetime(2025, 3, 18, 14, tzinfo=ZoneInfo("Asia/Bangkok"))
