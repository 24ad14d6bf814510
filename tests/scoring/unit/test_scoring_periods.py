from datetime import UTC, date, datetime

import pytest

from services.scoring.domain.periods import (
    bucket_keys,
    local_date,
    period_bounds,
    period_key,
    previous_period,
    rolling_window_days,
)


def test_bucket_keys_of_a_local_date() -> None:
    assert bucket_keys(date(2026, 11, 22)) == ("2026-11-22", "2026-11")
    assert [period_key("quarter", date(2026, m, 1)) for m in (1, 3, 4, 7, 10)] == [
        "2026-Q1", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]


def test_local_date_is_asia_ho_chi_minh() -> None:
    # 17:30 UTC on 30 November is 00:30 on 1 December in Vietnam (UTC+7).
    assert local_date(datetime(2026, 11, 30, 17, 30, tzinfo=UTC)) == date(2026, 12, 1)
    assert local_date(datetime(2026, 11, 30, 16, 59, tzinfo=UTC)) == date(2026, 11, 30)
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2026, 11, 30, 12, 0))


def test_rolling_window_crosses_year_end_oldest_first() -> None:
    days = rolling_window_days(date(2026, 1, 5), 30)
    assert len(days) == 30
    assert (days[0], days[-1]) == ("2025-12-07", "2026-01-05")
    assert rolling_window_days(date(2026, 1, 5), 1) == ["2026-01-05"]
    with pytest.raises(ValueError):
        rolling_window_days(date(2026, 1, 5), 0)


def test_period_bounds_and_previous_period() -> None:
    assert period_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert period_bounds("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_bounds("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert [previous_period(k) for k in ("2026-01", "2026-Q1", "2026", "2026-03-01")] == [
        "2025-12", "2025-Q4", "2025", "2026-02-28"]
    with pytest.raises(ValueError, match="not a period key"):
        period_bounds("2026-W10")
