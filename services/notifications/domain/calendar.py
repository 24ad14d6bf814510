"""The slice of the working calendar the notification rules need.

The real one is `services.common.workcalendar.WorkingCalendar`; the rules depend only on this
protocol so they stay pure and tests can pass a small fake. Parameters are positional-only so
implementations may name them as they like.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Protocol


class WorkingHoursLike(Protocol):
    @property
    def tz(self) -> tzinfo: ...

    @property
    def minutes_per_day(self) -> int: ...


class CalendarLike(Protocol):
    @property
    def hours(self) -> WorkingHoursLike: ...

    def is_working_day(self, d: date, /) -> bool: ...

    def next_working_instant(self, at: datetime, /) -> datetime: ...

    def add_working_minutes(self, start: datetime, minutes: int, /) -> datetime: ...

    def add_working_hours(self, start: datetime, hours: int, /) -> datetime: ...

    def add_working_days(self, start: datetime, days: int, /) -> datetime: ...

    def working_minutes_between(self, a: datetime, b: datetime, /) -> int: ...
