"""What the scoring handlers need besides the database: reference data, schemes and today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.common.reference import Province, UnitLevel
from services.contracts.scoring import ROLLING_30

from .domain.periods import (
    month_key,
    months_of,
    period_bounds,
    period_kind,
    periods_of_month,
    quarter_key,
    rolling_window_days,
    year_key,
)
from .domain.scheme import Scheme

# Levels that are ranked; the province itself is not ranked against anything.
RANKED_LEVELS = (UnitLevel.DEPARTMENT.value, UnitLevel.BRANCH.value, UnitLevel.COMMUNE.value,
                 UnitLevel.DISTRICT.value)
ROLLING_DAYS = 30


@dataclass(frozen=True)
class ScoringContext:
    province: Province
    schemes: dict[str, Scheme]
    today: date  # local date (Asia/Ho_Chi_Minh) of the service clock

    def live_periods(self) -> tuple[str, ...]:
        d = self.today
        return month_key(d), quarter_key(d), year_key(d), ROLLING_30

    def scheme(self, key: str) -> Scheme:
        if key not in self.schemes:
            raise ValueError(f"unknown scheme {key!r}: one of {sorted(self.schemes)}")
        return self.schemes[key]

    def level_of(self, unit_code: str) -> str | None:
        unit = self.province.unit(unit_code)
        return None if unit is None else unit.level.value


def check_period(period: str) -> None:
    """Raises ValueError unless `period` is a month, quarter, year or the rolling window."""
    if period != ROLLING_30 and period_kind(period) == "day":
        raise ValueError(f"period {period!r}: rank a month, quarter, year or {ROLLING_30!r}")


def buckets_of(period: str, today: date) -> list[str]:
    """The stored buckets whose sum is the period: its months, or the days of the window."""
    check_period(period)
    return rolling_window_days(today, ROLLING_DAYS) if period == ROLLING_30 else months_of(period)


def bounds_of(period: str, today: date) -> tuple[date, date]:
    if period == ROLLING_30:
        days = rolling_window_days(today, ROLLING_DAYS)
        return date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    return period_bounds(period)


def external_period(period: str, today: date) -> str:
    """Rolling windows use the current month's external inputs: those are monthly figures."""
    return month_key(today) if period == ROLLING_30 else period


def live_keys_touched(bucket: str, ctx: ScoringContext) -> list[str]:
    """Live periods whose ranking a change in `bucket` moves."""
    if period_kind(bucket) == "month":
        return [p for p in periods_of_month(bucket) if p in ctx.live_periods()]
    if period_kind(bucket) == "day" and bucket in rolling_window_days(ctx.today, ROLLING_DAYS):
        return [ROLLING_30]
    return []


def keys_touched(bucket: str, ctx: ScoringContext) -> list[str]:
    """Periods whose change count a change in `bucket` moves: a month bucket's month, quarter
    and year (live or not: a past period's count invalidates cached previous-period ranks), a
    day bucket's rolling window when the day is inside it."""
    if period_kind(bucket) == "month":
        return list(periods_of_month(bucket))
    return live_keys_touched(bucket, ctx)


def units_of(ctx: ScoringContext, level: str, period: str) -> list[str]:
    """Units of `level` that existed at some time in the period, by code."""
    first, last = bounds_of(period, ctx.today)
    return sorted(u.code for u in ctx.province.units
              if u.level.value == level and (u.valid_from is None or u.valid_from <= last)
              and (u.valid_to is None or u.valid_to > first))

