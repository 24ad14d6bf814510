"""Fixtures for the notification tests: a tiny fake working calendar, the real one, the sample
contacts and policy, and the personal values no outbound message may contain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from services.common.calendar_data import load_calendar
from services.common.db import make_engine, session_factory
from services.common.migrate import upgrade
from services.common.reference import load_province
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.context import Context
from services.notifications.dependencies import load_channels
from services.notifications.domain.contacts import Contacts
from services.notifications.domain.policy import Policy

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parents[2]

# What the one-stop system knows about an applicant; none of it may ever leave notifications.
PERSONAL = {
    "name": "Nguyễn Thị Minh Khai",
    "id_number": "001203012345",
    "phone": "0912345678",
    "email": "minh.khai.nguyen@example.com",
}


@dataclass(frozen=True)
class FakeHours:
    periods: tuple[tuple[time, time], ...] = ((time(7), time(11, 30)), (time(13, 30), time(17)))
    tz: ZoneInfo = VN

    @property
    def minutes_per_day(self) -> int:
        return sum((e.hour * 60 + e.minute) - (s.hour * 60 + s.minute) for s, e in self.periods)


@dataclass
class FakeCalendar:
    """Mon-Fri, 07:00-11:30 and 13:30-17:00 in Vietnam, minus `days_off`. Minute arithmetic by
    walking periods: slow, obviously right, enough for tests."""

    days_off: set[date] = field(default_factory=set)
    hours: FakeHours = field(default_factory=FakeHours)

    def is_working_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.days_off

    def _periods_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = at.astimezone(VN).date()
        for _ in range(400):
            if self.is_working_day(day):
                for s, e in self.hours.periods:
                    yield datetime.combine(day, s, VN), datetime.combine(day, e, VN)
            day += timedelta(days=1)

    def next_working_instant(self, at: datetime) -> datetime:
        return next(max(s, at) for s, e in self._periods_from(at) if at < e)

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        left = timedelta(minutes=minutes)
        for s, e in self._periods_from(start):
            if e <= start:
                continue
            begin = max(s, start)
            if left <= e - begin:
                return begin + left
            left -= e - begin
        raise AssertionError("ran off the fake calendar")

    def add_working_hours(self, start: datetime, hours: int) -> datetime:
        return self.add_working_minutes(start, hours * 60)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        return self.add_working_minutes(start, days * self.hours.minutes_per_day)

    def working_minutes_between(self, a: datetime, b: datetime) -> int:
        total = timedelta(0)
        for s, e in self._periods_from(a):
            if s >= b:
                break
            lo, hi = max(s, a), min(e, b)
            total += max(hi - lo, timedelta(0))
        return total // timedelta(minutes=1)


@pytest.fixture
def fake_calendar() -> FakeCalendar:
    return FakeCalendar()


@pytest.fixture(params=["fake", "real"])
def calendar(request: pytest.FixtureRequest) -> object:
    """Each rule runs on the tests' fake and on the real calendar built from data/calendars."""
    return FakeCalendar() if request.param == "fake" else _real_calendar()


@cache
def _real_calendar() -> object:
    from services.common.calendar_data import load_calendar

    return load_calendar()


@pytest.fixture(scope="session")
def contacts() -> Contacts:
    return Contacts.from_dict(yaml.safe_load(
        (ROOT / "data/provinces/demo/contacts.yaml").read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def policy() -> Policy:
    return Policy.from_dict(yaml.safe_load(
        (ROOT / "data/notification-policy.yaml").read_text(encoding="utf-8")))


@pytest.fixture
def personal() -> dict[str, str]:
    return dict(PERSONAL)


@pytest.fixture
def alerts_uow(database_url: str) -> Iterator[NotificationsUnitOfWork]:
    """The notifications unit of work on a migrated database of each supported kind."""
    upgrade("notifications", database_url)
    engine = make_engine(database_url)
    try:
        yield NotificationsUnitOfWork(session_factory(engine))
    finally:
        engine.dispose()


def demo_context(now: datetime) -> Context:
    """The demo province, the real calendar and the sample channels, at `now`."""
    return Context(load_province("demo"), load_calendar(), load_channels({"PROVINCE": "demo"}),
                   now)
