"""Builds the working calendar from data: the `holidays` package's Vietnam calendar as the baseline,
plus per-year override files `data/calendars/<year>.yaml` for what the package lacks or gets wrong.

Override file keys (all optional, each a list of `{date: YYYY-MM-DD, name: ..., source: ...}`):
  days_off      extra weekdays off (e.g. the weekday of a government day swap)
  working_days  make-up working Saturdays/Sundays
  not_days_off  baseline days off that are in fact working days
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml

from .workcalendar import WorkingCalendar, WorkingHours

DEFAULT_OVERRIDES_DIR = Path(__file__).resolve().parents[2] / "data" / "calendars"
_KEYS = ("days_off", "working_days", "not_days_off")


class CalendarDataError(ValueError):
    """An override file or a working-hours configuration that cannot be used."""


def load_calendar(
    overrides_dir: Path = DEFAULT_OVERRIDES_DIR,
    years: range = range(2024, 2028),
    hours: WorkingHours | None = None,
) -> WorkingCalendar:
    """The civil-service working calendar for `years`; a year without an override file uses the
    baseline alone."""
    if not years or years.step != 1:
        raise CalendarDataError(f"years must be a non-empty range with step 1, got {years!r}")
    if not overrides_dir.is_dir():
        raise CalendarDataError(f"calendar overrides directory {overrides_dir} does not exist")
    baseline = holidays.country_holidays("VN", years=list(years))
    # weekend_workdays also holds swaps of years the package knows but we did not ask for.
    days_off = {d for d in baseline if d.year in years}
    working = {d for d in baseline.weekend_workdays if d.year in years}
    for year in years:
        path = overrides_dir / f"{year}.yaml"
        if not path.exists():
            continue
        overrides = read_overrides(path, year)
        missing = sorted(overrides["not_days_off"] - days_off)
        if missing:
            raise CalendarDataError(f"{path}: not_days_off {missing} are not baseline days off")
        days_off = (days_off - overrides["not_days_off"]) | overrides["days_off"]
        working |= overrides["working_days"]
    clash = sorted(days_off & working)
    if clash:
        raise CalendarDataError(f"dates both off and working after overrides: {clash}")
    return WorkingCalendar(
        days_off, working, hours or WorkingHours(), first_year=years[0], last_year=years[-1]
    )


def read_overrides(path: Path, year: int) -> dict[str, set[date]]:
    """The dates of one override file, validated; raises CalendarDataError naming the entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CalendarDataError(f"{path}: not valid YAML: {exc}") from exc
    except ValueError as exc:  # PyYAML's own date parsing, e.g. 2025-02-30
        raise CalendarDataError(f"{path}: bad date: {exc}") from exc
    raw = raw or {}
    if not isinstance(raw, dict):
        raise CalendarDataError(f"{path}: expected a mapping with keys {_KEYS}")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise CalendarDataError(f"{path}: unknown keys {unknown}; allowed: {_KEYS}")
    result: dict[str, set[date]] = {}
    for key in _KEYS:
        entries = raw.get(key) or []
        if not isinstance(entries, list):
            raise CalendarDataError(f"{path}: {key} must be a list")
        result[key] = set()
        for i, entry in enumerate(entries):
            where = f"{path}: {key}[{i}]"
            d = _entry_date(entry, where, year)
            if d in result[key]:
                raise CalendarDataError(f"{where}: {d} is listed twice")
            weekend = d.weekday() >= 5
            if key == "working_days" and not weekend:
                raise CalendarDataError(f"{where}: {d} is a {d:%A}, not a weekend day")
            if key == "days_off" and weekend:
                raise CalendarDataError(f"{where}: {d} is a {d:%A}, already off")
            result[key].add(d)
    both = sorted(result["days_off"] & result["not_days_off"])
    if both:
        raise CalendarDataError(f"{path}: {both} both in days_off and not_days_off")
    return result


def _entry_date(entry: Any, where: str, year: int) -> date:
    if not isinstance(entry, dict) or "date" not in entry:
        raise CalendarDataError(f"{where}: expected a mapping with 'date' and 'name'")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CalendarDataError(f"{where}: 'name' must be a non-empty string")
    value = entry["date"]
    # PyYAML already turns an unquoted 2026-01-02 into a date; a quoted one arrives as str.
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise CalendarDataError(f"{where}: bad date {value!r}, expected YYYY-MM-DD") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise CalendarDataError(f"{where}: bad date {value!r}, expected YYYY-MM-DD")
    if value.year != year:
        raise CalendarDataError(f"{where}: {value} is not in the file's year {year}")
    return value


def working_hours_from_config(config: Mapping[str, Any]) -> WorkingHours:
    """WorkingHours from `{"timezone": "Asia/Ho_Chi_Minh", "periods": [["07:00", "11:30"], ...]}`;
    both keys optional, defaulting to DOMAIN.md's hours."""
    unknown = sorted(set(config) - {"timezone", "periods"})
    if unknown:
        raise CalendarDataError(f"working hours: unknown keys {unknown}")
    default = WorkingHours()
    tz_name = config.get("timezone", default.tz.key)
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CalendarDataError(f"working hours: unknown timezone {tz_name!r}") from None
    raw_periods = config.get("periods")
    if raw_periods is None:
        return WorkingHours(default.periods, tz)
    if not isinstance(raw_periods, list | tuple):
        raise CalendarDataError("working hours: periods must be a list of [start, end] pairs")
    periods = []
    for i, pair in enumerate(raw_periods):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise CalendarDataError(f"working hours: periods[{i}] must be [start, end]")
        periods.append((_hhmm(pair[0], i), _hhmm(pair[1], i)))
    try:
        return WorkingHours(tuple(periods), tz)
    except ValueError as exc:
        raise CalendarDataError(f"working hours: {exc}") from None


def _hhmm(value: Any, i: int) -> time:
    if isinstance(value, int):
        # YAML 1.1 reads an unquoted 07:00 as the sexagesimal integer 420.
        raise CalendarDataError(f"working hours: periods[{i}] got {value!r}; quote times: '07:00'")
    text = str(value)
    try:
        hour, minute = text.split(":")
        if len(hour) != 2 or len(minute) != 2:
            raise ValueError(text)
        return time(int(hour), int(minute))
    except ValueError:
        raise CalendarDataError(
            f"working hours: periods[{i}] has bad time {text!r}, expected HH:MM"
        ) from None
