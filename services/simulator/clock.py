"""Simulated time: a virtual clock, and an approximate working calendar for scheduling.

The working calendar here only decides *when simulated officials act* (weekdays, 07:00-11:30
and 13:30-17:00 Vietnam time, no holidays); the dossiers service computes real deadlines with
the full calendar, so a small disagreement around holidays is realistic, not a bug.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PERIODS = ((7 * 60, 11 * 60 + 30), (13 * 60 + 30, 17 * 60))  # minutes after local midnight
WORKDAY_MINUTES = sum(end - start for start, end in PERIODS)


class SimClock:
    """Maps wall time to simulated time: `speed` simulated seconds per real second."""

    def __init__(
        self, start: datetime, speed: float, wall: Callable[[], float] = time.monotonic
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self._wall = wall
        self._wall0 = wall()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(self._wall() - self._wall0) * self.speed)


def _local(t: datetime) -> datetime:
    return t.astimezone(VN_TZ)


def _at(day: datetime, minute: int) -> datetime:
    return day.replace(hour=minute // 60, minute=minute % 60, second=0, microsecond=0)


def is_working(t: datetime) -> bool:
    local = _local(t)
    minute = local.hour * 60 + local.minute
    return local.weekday() < 5 and any(s <= minute < e for s, e in PERIODS)


def is_office_day(t: datetime) -> bool:
    """Weekday daytime, lunch break included: when people walk in or file at a steady pace."""
    local = _local(t)
    return local.weekday() < 5 and PERIODS[0][0] <= local.hour * 60 + local.minute < PERIODS[-1][1]


def next_working(t: datetime) -> datetime:
    """`t` itself if inside a working period, else the start of the next one."""
    local = _local(t)
    while True:
        if local.weekday() < 5:
            for start, end in PERIODS:
                if local < _at(local, end):
                    return max(local, _at(local, start))
        local = _at(local + timedelta(days=1), 0)


def add_working_minutes(t: datetime, minutes: float) -> datetime:
    """The instant `minutes` of working time after `t` (an end of period stays that instant)."""
    local = next_working(t)
    left = timedelta(minutes=minutes)
    today = _worked(local, _at(local, PERIODS[-1][1]))
    if left > today:  # skip whole days rather than walking every period of a long procedure
        left -= today
        local = _next_day_start(local)
        whole = int((left - timedelta(microseconds=1)) / _WORKDAY)
        local = _add_working_days(local, whole)
        left -= whole * _WORKDAY
    for start, end in PERIODS:
        begin, stop = max(local, _at(local, start)), _at(local, end)
        if begin >= stop:
            continue
        if left <= stop - begin:
            return begin + left
        left -= stop - begin
    return add_working_minutes(_next_day_start(local), left.total_seconds() / 60)


def working_minutes_between(a: datetime, b: datetime) -> float:
    """Working minutes in [a, b); 0 if b is not after a."""
    la, lb = _local(a), _local(b)
    if lb <= la:
        return 0.0
    if la.date() == lb.date():
        return _worked(la, lb).total_seconds() / 60
    total = _worked(la, _at(la, 24 * 60 - 1)) + _worked(_at(lb, 0), lb)
    day, whole = la.date() + timedelta(days=1), 0
    weeks = (lb.date() - day).days // 7
    day += timedelta(days=7 * weeks)
    while day < lb.date():
        whole += day.weekday() < 5
        day += timedelta(days=1)
    return (total + (weeks * 5 + whole) * _WORKDAY).total_seconds() / 60


_WORKDAY = timedelta(minutes=WORKDAY_MINUTES)


def _worked(a: datetime, b: datetime) -> timedelta:
    """Working time in [a, b), both on the same local day."""
    if a.weekday() >= 5:
        return timedelta(0)
    total = timedelta(0)
    for start, end in PERIODS:
        begin, stop = max(a, _at(a, start)), min(b, _at(a, end))
        if stop > begin:
            total += stop - begin
    return total


def _next_day_start(local: datetime) -> datetime:
    return _add_working_days(_at(local, PERIODS[0][0]), 1)


def _add_working_days(local: datetime, days: int) -> datetime:
    weeks, rest = divmod(days, 5)
    local += timedelta(days=7 * weeks)
    while rest or local.weekday() >= 5:
        local += timedelta(days=1)
        rest -= local.weekday() < 5
    return local
