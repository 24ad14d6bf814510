"""The day-by-day working calendar as it was before the tables: the reference that the fast
calendar must match exactly (test_workcalendar_properties.py) and the baseline that
bench/bench_calendar.py measures it against. Keep it as it is: it is evidence, not code to grow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.common.workcalendar import CalendarRangeError, WorkingCalendar

_DAY = timedelta(days=1)
_ZERO = timedelta(0)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()}: pass an aware datetime")
    return at.astimezone(UTC)


class ReferenceCalendar(WorkingCalendar):
    """WorkingCalendar with its three primitives walking day by day, as originally written;
    the helpers built on them (minutes, days, next working instant) are inherited."""

    @classmethod
    def like(cls, calendar: WorkingCalendar) -> ReferenceCalendar:
        return cls(
            calendar.days_off,
            calendar.working_weekend_days,
            calendar.hours,
            first_year=calendar.first_year,
            last_year=calendar.last_year,
        )

    def is_working_day(self, d: date) -> bool:
        if not self.first_year <= d.year <= self.last_year:
            raise CalendarRangeError(
                f"{d} is outside the working calendar ({self.first_year}-{self.last_year}); "
                "load that year's calendar data"
            )
        if d.weekday() >= 5:
            return d in self.working_weekend_days
        return d not in self.days_off

    def _ref_periods(self, d: date) -> list[tuple[datetime, datetime]]:
        tz = self.hours.tz
        return [
            (datetime.combine(d, s, tz).astimezone(UTC), datetime.combine(d, e, tz).astimezone(UTC))
            for s, e in self.hours.periods
        ]

    def _ref_day(self, t: datetime) -> date:
        return t.astimezone(self.hours.tz).date()

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        if amount < _ZERO:
            raise ValueError(f"cannot add negative working time {amount}")
        t, remaining, day = _utc(start), amount, self._ref_day(_utc(start))
        while True:
            if self.is_working_day(day):
                periods = self._ref_periods(day)
                day_length = sum((e - s for s, e in periods), _ZERO)
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
        if amount < _ZERO:
            raise ValueError(f"cannot subtract negative working time {amount}")
        t, remaining, day = _utc(end), amount, self._ref_day(_utc(end))
        while True:
            if self.is_working_day(day):
                periods = self._ref_periods(day)
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
        ta, tb = _utc(a), _utc(b)
        total = _ZERO
        day, last = self._ref_day(ta), self._ref_day(tb)
        while ta < tb and day <= last:
            if self.is_working_day(day):
                for s, e in self._ref_periods(day):
                    lo, hi = max(s, ta), min(e, tb)
                    if hi > lo:
                        total += hi - lo
            day += _DAY
        return total
