"""Working calendar: which instants count towards a statutory deadline (DOMAIN.md, SLA clock).

Pure stdlib. Working time is the configured daily periods on working days; a weekend day counts
only when it is a make-up working day. Arithmetic runs in UTC, so even a zone with DST adds up;
results come back in the calendar's zone. Periods are half-open for "where am I" questions
(17:00 is not working time) but a due instant may be a period's end (17:00, as receipts print it).

The calendar is immutable, so construction lays out every day of its years once: each day's
periods in UTC and the working time before each day's start. Queries then cost a binary search
at most, instead of a walk over the days in between (an SLA assessment runs on every event).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import NoReturn
from zoneinfo import ZoneInfo

_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)
_ZERO = timedelta(0)
_DEFAULT_PERIODS = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
_DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_Periods = Sequence[tuple[datetime, datetime]]


class CalendarRangeError(ValueError):
    """A date outside the years the calendar has holiday data for."""


def _utc(at: datetime) -> datetime:
    if at.tzinfo is UTC:  # astimezone would return it unchanged, after asking for its offset
        return at
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: pass an aware datetime")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class WorkingHours:
    """The daily working periods, in local wall-clock time, whole minutes, in order."""

    periods: tuple[tuple[time, time], ...] = _DEFAULT_PERIODS
    tz: ZoneInfo = _DEFAULT_TZ
    # Asked for on every SLA assessment; worked out once, and no part of equality or repr.
    _minutes_per_day: int = field(init=False, repr=False, compare=False, default=0)

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
        minutes = sum(
            (datetime.combine(date.min, e) - datetime.combine(date.min, s)) // _MINUTE
            for s, e in self.periods
        )
        object.__setattr__(self, "_minutes_per_day", minutes)

    @property
    def minutes_per_day(self) -> int:
        return self._minutes_per_day


class WorkingCalendar:
    """Working days and working time between first_year and last_year (inclusive).

    Raises ValueError when a clock change would make a day's periods empty or out of order in
    UTC (a period bound inside a DST gap, e.g. 02:30 in Berlin on the last Sunday of March).
    """

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
        self._first, self._last = date(first_year, 1, 1), date(last_year, 12, 31)
        self._ordinal = self._first.toordinal()
        # Per day index: its periods in UTC (none if not a working day); _before[i] is the
        # working time of all days before day i, so it has one entry more than there are days.
        self._days: list[_Periods] = []
        self._before = [_ZERO]
        for ordinal in range(self._ordinal, self._last.toordinal() + 1):
            periods = self._lay_out(date.fromordinal(ordinal))
            self._days.append(periods)
            self._before.append(self._before[-1] + sum((e - s for s, e in periods), _ZERO))

    def _lay_out(self, d: date) -> _Periods:
        if not self.is_working_day(d):
            return ()
        tz = self.hours.tz
        periods = tuple(
            (datetime.combine(d, s, tz).astimezone(UTC), datetime.combine(d, e, tz).astimezone(UTC))
            for s, e in self.hours.periods
        )
        # The whole-day jumps assume each working day is a run of positive, disjoint periods
        # that stay on their own local day; a DST gap can break that, and then nothing adds up.
        ordered = all(s < e for s, e in periods) and all(
            e <= s for (_, e), (s, _) in pairwise(periods)
        )
        if not ordered or any(t.astimezone(tz).date() != d for p in periods for t in p):
            raise ValueError(
                f"working hours {self.hours.periods} do not fit {d} in {tz.key}: a clock change "
                "makes a period empty or out of order; move the periods out of the DST gap"
            )
        return periods

    def _out_of_range(self, d: date) -> NoReturn:
        raise CalendarRangeError(
            f"{d} is outside the working calendar ({self.first_year}-{self.last_year}); "
            "load that year's calendar data"
        )

    def _index(self, local_day: date) -> int:
        i = local_day.toordinal() - self._ordinal
        if not 0 <= i < len(self._days):
            self._out_of_range(local_day)
        return i

    def is_working_day(self, d: date) -> bool:
        if not self.first_year <= d.year <= self.last_year:
            self._out_of_range(d)
        if d.weekday() >= 5:
            return d in self.working_weekend_days
        return d not in self.days_off

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which `amount` of working time has fully elapsed after `start`."""
        if amount < _ZERO:
            raise ValueError(f"cannot add negative working time {amount}")
        t = _utc(start)
        i = self._index(t.astimezone(self.hours.tz).date())
        left = _forward(self._days[i], t, amount)
        if isinstance(left, timedelta):
            # The first later day by whose end `left` has elapsed: bisect_left, so that a day
            # using up exactly the remainder ends it at its last period's end. With nothing left,
            # the first later day that has any working time, where the next period starts.
            before, base = self._before, self._before[i + 1]
            if left:
                k = bisect_left(before, base + left, i + 2)
            else:
                k = bisect_right(before, base, i + 2)
            if k == len(before):
                self._out_of_range(self._last + _DAY)
            left = _forward(self._days[k - 1], t, left - (before[k - 1] - base))
            assert isinstance(left, datetime), "the table said this day finishes the amount"
        return left.astimezone(self.hours.tz)

    def subtract_working_time(self, end: datetime, amount: timedelta) -> datetime:
        """The earliest instant from which at most `amount` of working time remains to `end`."""
        if amount < _ZERO:
            raise ValueError(f"cannot subtract negative working time {amount}")
        t = _utc(end)
        i = self._index(t.astimezone(self.hours.tz).date())
        left = _backward(self._days[i], t, amount)
        if isinstance(left, timedelta):
            # The last earlier day with more working time than is left (`>=` uses a day up whole:
            # the earliest instant is an earlier period's end, not this day's start).
            before, top = self._before, self._before[i]
            k = bisect_left(before, top - left, 0, i)
            if k == 0:
                self._out_of_range(self._first - _DAY)
            left = _backward(self._days[k - 1], t, left - (top - before[k]))
            assert isinstance(left, datetime), "the table said this day finishes the amount"
        return left.astimezone(self.hours.tz)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Exact working time in [a, b]; zero if b <= a."""
        ta, tb = _utc(a), _utc(b)
        tz = self.hours.tz
        day_a, day_b = ta.astimezone(tz).date(), tb.astimezone(tz).date()
        if ta >= tb:
            return _ZERO
        i = self._index(day_a)
        j = day_b.toordinal() - self._ordinal
        if j >= len(self._days):
            self._out_of_range(self._last + _DAY)
        if i == j:
            return _clipped(self._days[i], ta, tb)
        whole = self._before[j] - self._before[i + 1]
        return _clipped(self._days[i], ta, tb) + whole + _clipped(self._days[j], ta, tb)

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


def _forward(periods: _Periods, t: datetime, left: timedelta) -> datetime | timedelta:
    """The instant `left` after `t` within one day's periods, or what is still left after them.
    `<=`: a remainder that a period holds exactly ends at that period's end."""
    for s, e in periods:
        if e > t:
            s = s if s > t else t
            if left <= e - s:
                return s + left
            left -= e - s
    return left


def _backward(periods: _Periods, t: datetime, left: timedelta) -> datetime | timedelta:
    """The earliest instant with at most `left` before `t` within one day's periods, or what is
    still left. `<`: with exactly a period's worth left, an earlier period's end is earlier."""
    for s, e in reversed(periods):
        if s < t:
            e = e if e < t else t
            if left < e - s:
                return e - left
            left -= e - s
    return left


def _clipped(periods: _Periods, ta: datetime, tb: datetime) -> timedelta:
    total = _ZERO
    for s, e in periods:
        lo, hi = (s if s > ta else ta), (e if e < tb else tb)
        if hi > lo:
            total += hi - lo
    return total


def _non_negative(minutes: int) -> int:
    if minutes < 0:
        raise ValueError(f"working minutes must not be negative, got {minutes}")
    return minutes
