"""Period keys: the buckets a dossier's contribution is added to.

A dossier lands in two buckets: its local day and month. Nothing else is stored: a quarter or a
year is the sum of its months, a 30-day window the sum of the daily buckets that end on its last
day, so they need no sweeper, are exact on replay, and a change writes two cells per counter
instead of four.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo

# Vietnam has kept UTC+7 without daylight saving since 1975, so a fixed offset is exact and
# needs no tz database on the host.
VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

_PATTERNS = {
    "day": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}
PERIOD_KINDS = ("day", "month", "quarter", "year")


def local_date(moment: datetime, tz: tzinfo = VN_TZ) -> date:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: times must carry an offset")
    return moment.astimezone(tz).date()


def day_key(d: date) -> str:
    return d.isoformat()


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def quarter_key(d: date) -> str:
    return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"


def year_key(d: date) -> str:
    return f"{d.year:04d}"


def period_key(kind: str, d: date) -> str:
    """The key of the period of `kind` ("day", "month", "quarter", "year") containing `d`."""
    makers = {"day": day_key, "month": month_key, "quarter": quarter_key, "year": year_key}
    if kind not in makers:
        raise ValueError(f"unknown period kind {kind!r}; expected one of {PERIOD_KINDS}")
    return makers[kind](d)


def bucket_keys(d: date) -> tuple[str, str]:
    """Every bucket a dossier anchored on local date `d` counts in: its day and its month."""
    return day_key(d), month_key(d)


def months_of(key: str) -> list[str]:
    """The month buckets whose sum is a month, quarter or year key, in order."""
    kind = period_kind(key)
    if kind not in ("month", "quarter", "year"):
        raise ValueError(f"{key!r} is not a month, quarter or year")
    first, last = period_bounds(key)
    return [f"{first.year:04d}-{m:02d}" for m in range(first.month, last.month + 1)]


def periods_of_month(month: str) -> tuple[str, str, str]:
    """The month key itself, its quarter and its year: every period a month bucket is in."""
    first, _ = period_bounds(month)
    return month, quarter_key(first), year_key(first)


def rolling_window_days(end_date: date, days: int = 30) -> list[str]:
    """Daily bucket keys of the `days`-day window ending on `end_date` (inclusive), oldest first."""
    if days < 1:
        raise ValueError("a rolling window needs at least one day")
    return [day_key(end_date - timedelta(days=back)) for back in range(days - 1, -1, -1)]


def period_kind(key: str) -> str:
    for kind, pattern in _PATTERNS.items():
        if pattern.match(key):
            return kind
    raise ValueError(f"not a period key: {key!r}")


def period_bounds(key: str) -> tuple[date, date]:
    """First and last local date (both inclusive) of a period key."""
    kind = period_kind(key)
    match = _PATTERNS[kind].match(key)
    assert match is not None
    year = int(match.group(1))
    if kind == "day":
        d = date.fromisoformat(key)
        return d, d
    if kind == "year":
        return date(year, 1, 1), date(year, 12, 31)
    first_month = int(match.group(2)) if kind == "month" else (int(match.group(2)) - 1) * 3 + 1
    last_month = first_month if kind == "month" else first_month + 2
    first = date(year, first_month, 1)
    after = date(year + 1, 1, 1) if last_month == 12 else date(year, last_month + 1, 1)
    return first, after - timedelta(days=1)


def previous_period(key: str) -> str:
    """The period of the same kind just before `key` (for rank change against last period)."""
    first, _ = period_bounds(key)
    return period_key(period_kind(key), first - timedelta(days=1))
