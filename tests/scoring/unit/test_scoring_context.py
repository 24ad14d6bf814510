"""Which periods a change moves, which units a level ranks, which periods are accepted."""

from __future__ import annotations

from datetime import date

import pytest

from services.contracts.scoring import ROLLING_30
from services.scoring.context import (
    buckets_of,
    check_period,
    external_period,
    keys_touched,
    live_keys_touched,
    units_of,
)
from tests.scoring.scoring_support import scoring_context


def test_live_periods_follow_the_service_date() -> None:
    ctx = scoring_context(date(2026, 11, 22))
    assert ctx.live_periods() == ("2026-11", "2026-Q4", "2026", ROLLING_30)
    # A month bucket is in its month, quarter and year: those that are live now.
    assert live_keys_touched("2026-11", ctx) == ["2026-11", "2026-Q4", "2026"]
    assert live_keys_touched("2026-10", ctx) == ["2026-Q4", "2026"]  # last month: not live
    assert live_keys_touched("2025-12", ctx) == []
    # Every period of a month bucket counts a change, live or not (previous-period caches).
    assert keys_touched("2025-12", ctx) == ["2025-12", "2025-Q4", "2025"]
    assert keys_touched("2026-10-24", ctx) == [ROLLING_30]
    assert live_keys_touched("2026-10-24", ctx) == [ROLLING_30]  # day 30 of the window
    assert live_keys_touched("2026-10-23", ctx) == []  # day 31: outside


def test_rolling_window_sums_thirty_days_and_uses_the_month_inputs() -> None:
    days = buckets_of(ROLLING_30, date(2026, 11, 22))
    assert (len(days), days[0], days[-1]) == (30, "2026-10-24", "2026-11-22")
    # Quarters and years are sums of their months.
    assert buckets_of("2026-Q4", date(2026, 11, 22)) == ["2026-10", "2026-11", "2026-12"]
    assert buckets_of("2026", date(2026, 11, 22)) == [f"2026-{m:02d}" for m in range(1, 13)]
    assert buckets_of("2026-11", date(2026, 11, 22)) == ["2026-11"]
    assert external_period(ROLLING_30, date(2026, 11, 22)) == "2026-11"


def test_a_day_is_not_a_ranked_period() -> None:
    with pytest.raises(ValueError, match="rank a month"):
        check_period("2026-11-22")
    with pytest.raises(ValueError, match="not a period key"):
        check_period("November")


def test_legacy_districts_are_ranked_in_the_periods_they_existed() -> None:
    ctx = scoring_context(date(2026, 11, 22))
    assert units_of(ctx, "district", "2026") == []
    districts = units_of(ctx, "district", "2025")
    assert "H99.41" in districts and "H99.42" in districts
    assert "H99.50.01" in units_of(ctx, "commune", "2025")  # created 2025-07-01
    assert "H99.50.01" not in units_of(ctx, "commune", "2025-Q1")
