"""The simulator's virtual clock and its approximate working calendar."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from services.simulator.clock import (
    VN_TZ,
    SimClock,
    add_working_minutes,
    is_working,
    next_working,
    working_minutes_between,
)

FRIDAY_4PM = datetime(2026, 1, 9, 16, 0, tzinfo=VN_TZ)


def minute_by_minute(a: datetime, b: datetime) -> int:
    """Brute force: count the working minutes in [a, b) one by one."""
    count, t = 0, a
    while t < b:
        count += is_working(t)
        t += timedelta(minutes=1)
    return count


def test_sim_clock_scales_wall_time() -> None:
    wall = [100.0]
    clock = SimClock(FRIDAY_4PM, speed=60, wall=lambda: wall[0])
    assert clock.now() == FRIDAY_4PM
    wall[0] += 2.5
    assert clock.now() == FRIDAY_4PM + timedelta(minutes=2, seconds=30)
    with pytest.raises(ValueError):
        SimClock(datetime(2026, 1, 1), speed=60)


def test_working_periods_and_weekends() -> None:
    assert is_working(FRIDAY_4PM)
    assert not is_working(FRIDAY_4PM.replace(hour=12))
    assert next_working(FRIDAY_4PM.replace(hour=12)) == FRIDAY_4PM.replace(hour=13, minute=30)
    saturday = datetime(2026, 1, 10, 9, 0, tzinfo=VN_TZ)
    assert next_working(saturday) == datetime(2026, 1, 12, 7, 0, tzinfo=VN_TZ)


def test_adding_working_time_crosses_breaks_and_weekends() -> None:
    assert add_working_minutes(FRIDAY_4PM, 60) == FRIDAY_4PM.replace(hour=17)  # ends with period
    assert add_working_minutes(FRIDAY_4PM, 61) == datetime(2026, 1, 12, 7, 1, tzinfo=VN_TZ)
    assert add_working_minutes(FRIDAY_4PM, 2 * 480) == datetime(2026, 1, 13, 16, 0, tzinfo=VN_TZ)
    assert add_working_minutes(FRIDAY_4PM.replace(hour=11), 45) == FRIDAY_4PM.replace(
        hour=13, minute=45)


def test_working_minutes_agree_with_brute_force() -> None:
    rng = random.Random(5)
    for _ in range(80):
        a = FRIDAY_4PM + timedelta(minutes=rng.randrange(-3000, 20000))
        minutes = rng.choice([0, 1, 29, 270, 480, 481, 2400, rng.randrange(1, 5000)])
        b = add_working_minutes(a, minutes)
        assert minute_by_minute(a, b) == minutes
        assert working_minutes_between(a, b) == pytest.approx(minutes)
        c = a + timedelta(minutes=rng.randrange(0, 15000))
        assert working_minutes_between(a, c) == minute_by_minute(a, c)
