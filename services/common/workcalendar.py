"""Working calendar: which instants count towards a statutory deadline (DOMAIN.md, SLA clock).

Pure stdlib. Working time is the configured daily periods on working days; a weekend day counts
only when it is a make-up working day. Arithmetic runs in UTC, so even a zone with DST adds up;
results come back in the calendar's zone. Periods are half-open for "where am I" questions
(17:00 is not working time) but a due instant may be a period's end (17:00, as receipts print it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)
_ZERO = timedelta(0)
_DEFAULT_PERIODS = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
_DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class CalendarRangeError(ValueError):
    """A date outside the years the calendar has holiday data for."""


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: pass an aware datetime")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class WorkingHours:
    """The daily working periods, in local wall-clock time, whole minutes, in order."""

    periods: tuple[tuple[time, time], ...] = _DEFAULT_PERIODS
    tz: ZoneInfo = _DEFAULT_TZ

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("working hours need at least one period")
        previous_end: time | None = None
        for start, end in self.periods:
            for t in (start, end):
                if t.tzinfo is not None or t.second or t.microsecond:
                    raise ValueError(f"period bound {t} must be a naive local time, whole minutes")
            if not start < end:
                raise ValueError(f"period {start}-{end} must start before it ends")
            if previous_end is not None and start < previous_end:
                raise ValueError(f"period {start}-{end} overlaps or precedes the previous one")
            previous_end = end

    @property
    def minutes_per_day(self) -> int:
        return sum(
            (datetime.combine(date.min, e) - datetime.combine(date.min, s)) // _MINUTE
            for s, e in self.periods
        )


class WorkingCalendar:
    """Working days and working time between first_year and last_year (inclusive)."""

    def __init__(
        self,
        days_off: Iterable[date],
        working_weekend_days: Iterable[date],
        hours: WorkingHours = WorkingHours(),
        *,
        first_year: int,
        last_year: int,
    ) -> None:
        if first_year > last_year:
            raise ValueError(f"first_year {first_year} is after last_year {last_year}")
        self.hours = hours
        self.first_year = first_year
        self.last_year = last_year
        self.days_off = frozenset(days_off)
        self.working_weekend_days = frozenset(working_weekend_days)
        weekdays = sorted(d for d in self.working_weekend_days if d.weekday() < 5)
        if weekdays:
            raise ValueError(f"working weekend days must be Saturdays or Sundays: {weekdays}")
        clash = sorted(self.days_off & self.working_weekend_days)
        if clash:
            raise ValueError(f"dates both off and working: {clash}")

    def is_working_day(self, d: date) -> bool:
        if not self.first_year <= d.year <= self.last_year:
            raise CalendarRangeError(
                f"{d} is outside the working calendar ({self.first_year}-{self.last_year}); "
                "load that year's calendar data"
            )
        if d.weekday() >= 5:
            return d in self.working_weekend_days
        return d not in self.days_off

    def _periods(self, d: date) -> list[tuple[datetime, datetime]]:
        tz = self.hours.tz
        return [
            (datetime.combine(d, s, tz).astimezone(UTC), datetime.combine(d, e, tz).astimezone(UTC))
            for s, e in self.hours.periods
        ]

    def _day(self, t: datetime) -> date:
        return t.astimezone(self.hours.tz).date()

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which `amount` of working time has fully elapsed after `start`."""
        if amount < _ZERO:
            raise ValueError(f"cannot add negative working time {amount}")
        t, remaining, day = _utc(start), amount, self._day(_utc(start))
        while True:
            if self.is_working_day(day):
                periods = self._periods(day)
                day_length = sum((e - s for s, e in periods), _ZERO)
                # Whole days are skipped in one step; `>` so that a day that exactly uses up the
                # remainder ends at its last period's end, not at the next day's start.
                if t <= periods[0][0] and remaining > day_length:
                    remaining -= day_length
                else:
                    for s, e in periods:
                        if e <= t:
                            continue
                        s = max(s, t)
                        if remaining <= e - s:
                            return (s + remaining).astimezone(self.hours.tz)
                        remaining -= e - s
            day += _DAY

    def subtract_working_time(self, end: datetime, amount: timedelta) -> datetime:
        """The earliest instant from which at most `amount` of working time remains to `end`."""
        if amount < _ZERO:
            raise ValueError(f"cannot subtract negative working time {amount}")
        t, remaining, day = _utc(end), amount, self._day(_utc(end))
        while True:
            if self.is_working_day(day):
                periods = self._periods(day)
                day_length = sum((e - s for s, e in periods), _ZERO)
                if t >= periods[-1][1] and remaining >= day_length:
                    remaining -= day_length
                else:
                    for s, e in reversed(periods):
                        if s >= t:
                            continue
                        e = min(e, t)
                        if remaining < e - s:
                            return (e - remaining).astimezone(self.hours.tz)
                        remaining -= e - s
            day -= _DAY

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Exact working time in [a, b]; zero if b <= a."""
        ta, tb = _utc(a), _utc(b)
        total = _ZERO
        day, last = self._day(ta), self._day(tb)
        while ta < tb and day <= last:
            if self.is_working_day(day):
                for s, e in self._periods(day):
                    lo, hi = max(s, ta), min(e, tb)
                    if hi > lo:
                        total += hi - lo
            day += _DAY
        return total

    def next_working_instant(self, at: datetime) -> datetime:
        """`at` itself if inside a working period, else the start of the next one."""
        return self.add_working_time(at, _ZERO)

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        return self.add_working_time(start, timedelta(minutes=_non_negative(minutes)))

    def subtract_working_minutes(self, end: datetime, minutes: int) -> datetime:
        return self.subtract_working_time(end, timedelta(minutes=_non_negative(minutes)))

    def working_minutes_between(self, a: datetime, b: datetime) -> int:
        """Working minutes in [a, b], floored to whole minutes; 0 if b <= a."""
        return self.working_time_between(a, b) // _MINUTE

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """Adds days of `hours.minutes_per_day` each, rounded to the minute (0.5 day = 240 min)."""
        return self.add_working_minutes(start, round(days * self.hours.minutes_per_day))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Adds working hours, rounded to the minute."""
        return self.add_working_minutes(start, round(hours * 60))


def _non_negative(minutes: int) -> int:
    if minutes < 0:
        raise ValueError(f"working minutes must not be negative, got {minutes}")
    return minutes
