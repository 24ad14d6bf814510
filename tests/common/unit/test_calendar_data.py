"""The calendar loader: the holidays baseline, the shipped override files, and their validation."""

from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml

from services.common.calendar_data import (
    DEFAULT_OVERRIDES_DIR,
    CalendarDataError,
    load_calendar,
    read_overrides,
    working_hours_from_config,
)
from services.common.workcalendar import CalendarRangeError, WorkingHours

CAL = load_calendar()


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 27),  # Tết 2025: weekdays 27/1-31/1
        date(2025, 1, 31),
        date(2025, 5, 2),  # 2025 swap, worked on Saturday 26/4
        date(2025, 9, 1),  # National Day 2025 with 2/9
        date(2026, 1, 2),  # New Year 2026 swap: from our override file
        date(2026, 2, 16),  # Tết 2026: weekdays 16/2-20/2
        date(2026, 2, 20),
        date(2026, 4, 27),  # Hùng Kings 2026 fell on Sunday 26/4
        date(2026, 11, 24),  # Culture Day, from 2026
        date(2027, 2, 4),  # Tết 2027 (package rule): 4/2-10/2
        date(2027, 2, 10),
    ],
)
def test_days_off(day: date) -> None:
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 5, 4),  # make-up Saturdays: package
        date(2025, 4, 26),
        date(2026, 8, 22),
        date(2026, 1, 10),  # ... and our override
        date(2025, 11, 24),  # Culture Day is not a holiday before 2026
        date(2026, 2, 23),  # back to work after Tết 2026
        date(2027, 2, 11),
    ],
)
def test_working_days(day: date) -> None:
    assert CAL.is_working_day(day)


def test_range_is_the_loaded_years() -> None:
    assert (CAL.first_year, CAL.last_year) == (2024, 2027)
    with pytest.raises(CalendarRangeError):
        CAL.is_working_day(date(2028, 1, 3))


def test_shipped_overrides_are_honest() -> None:
    """Every entry has a name and a source, and changes what the package alone would give."""
    for year in range(2024, 2028):
        path = DEFAULT_OVERRIDES_DIR / f"{year}.yaml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        base = holidays.country_holidays("VN", years=year)
        for key, entries in raw.items():
            for entry in entries or []:
                assert entry["name"] and entry["source"], (path, entry)
                d = entry["date"]
                if key == "days_off":
                    assert d not in base, (path, entry)
                elif key == "working_days":
                    assert d not in base.weekend_workdays, (path, entry)
                else:
                    assert d in base, (path, entry)


def write(tmp_path: Path, year: int, text: str) -> Path:
    path = tmp_path / f"{year}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_override_files_apply(tmp_path: Path) -> None:
    write(
        tmp_path,
        2025,
        "days_off:\n  - {date: 2025-03-14, name: test day off}\n"
        "working_days:\n  - {date: '2025-03-15', name: test Saturday}\n"
        "not_days_off:\n  - {date: 2025-04-07, name: Hung Kings, not off here}\n",
    )
    cal = load_calendar(tmp_path, years=range(2025, 2026))
    assert not cal.is_working_day(date(2025, 3, 14))
    assert cal.is_working_day(date(2025, 3, 15))
    assert cal.is_working_day(date(2025, 4, 7))
    assert not cal.is_working_day(date(2025, 4, 30))  # baseline untouched elsewhere


def test_missing_and_empty_files_mean_baseline_only(tmp_path: Path) -> None:
    write(tmp_path, 2024, "")
    cal = load_calendar(tmp_path, years=range(2024, 2026))
    assert not cal.is_working_day(date(2025, 5, 2))
    assert cal.is_working_day(date(2025, 4, 26))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("days_off:\n  - {date: 2025-02-30, name: x}\n", "bad date"),
        ("days_off:\n  - {date: 'soon', name: x}\n", "bad date"),
        ("days_off:\n  - {date: 2025-03-14}\n", "'name'"),
        ("days_off:\n  - 2025-03-14\n", "expected a mapping"),
        ("days_off:\n  - {date: 2024-03-14, name: x}\n", "not in the file's year 2025"),
        ("days_off:\n  - {date: 2025-03-15, name: x}\n", "Saturday, already off"),
        ("working_days:\n  - {date: 2025-03-14, name: x}\n", "Friday, not a weekend day"),
        ("not_days_off:\n  - {date: 2025-03-14, name: x}\n", "not baseline days off"),
        ("days_off:\n  - {date: 2025-03-14, name: x}\n  - {date: 2025-03-14, name: y}\n", "twice"),
        ("holidays:\n  - {date: 2025-03-14, name: x}\n", "unknown keys"),
        ("days_off: 2025-03-14\n", "must be a list"),
        ("- 1\n- 2\n", "expected a mapping"),
        ("days_off: [\n", "not valid YAML"),
        (
            "days_off:\n  - {date: 2025-04-07, name: x}\n"
            "not_days_off:\n  - {date: 2025-04-07, name: y}\n",
            "both in days_off and not_days_off",
        ),
    ],
)
def test_bad_override_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, 2025, text)
    with pytest.raises(CalendarDataError, match=message) as excinfo:
        load_calendar(tmp_path, years=range(2025, 2026))
    assert str(path) in str(excinfo.value)


def test_a_make_up_day_that_is_also_off_is_refused(tmp_path: Path) -> None:
    # 2025-02-01 is a Saturday in the Tết baseline; declaring it a working day contradicts it.
    write(tmp_path, 2025, "working_days:\n  - {date: 2025-02-01, name: x}\n")
    with pytest.raises(CalendarDataError, match="both off and working"):
        load_calendar(tmp_path, years=range(2025, 2026))


def test_read_overrides_returns_dates(tmp_path: Path) -> None:
    path = write(tmp_path, 2026, "working_days:\n  - {date: 2026-01-10, name: x, source: y}\n")
    assert read_overrides(path, 2026) == {
        "days_off": set(),
        "working_days": {date(2026, 1, 10)},
        "not_days_off": set(),
    }


def test_loader_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(CalendarDataError, match="does not exist"):
        load_calendar(tmp_path / "nowhere")
    with pytest.raises(CalendarDataError, match="non-empty range"):
        load_calendar(tmp_path, years=range(2025, 2025))
    with pytest.raises(CalendarDataError, match="step 1"):
        load_calendar(tmp_path, years=range(2024, 2028, 2))


def test_loader_takes_working_hours(tmp_path: Path) -> None:
    hours = WorkingHours(((time(8), time(12)),))
    assert load_calendar(tmp_path, years=range(2025, 2026), hours=hours).hours is hours


def test_working_hours_from_config() -> None:
    hours = working_hours_from_config(
        {"timezone": "Asia/Bangkok", "periods": [["07:30", "11:30"], ["13:00", "17:00"]]}
    )
    assert hours.tz == ZoneInfo("Asia/Bangkok")
    assert hours.periods == ((time(7, 30), time(11, 30)), (time(13), time(17)))
    assert working_hours_from_config({}) == WorkingHours()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"periods": [["7h", "11:30"]]}, "bad time"),
        ({"periods": [["07:00", "25:00"]]}, "bad time"),
        ({"periods": [["07:00"]]}, r"\[start, end\]"),
        ({"periods": "07:00-11:30"}, "list of"),
        ({"periods": [["07:00", "12:00"], ["11:00", "17:00"]]}, "overlaps"),
        ({"periods": []}, "at least one period"),
        ({"hours": []}, "unknown keys"),
    ],
)
def test_bad_working_hours_are_refused(config: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarDataError, match=message):
        working_hours_from_config(config)


def test_unquoted_yaml_times_get_a_hint() -> None:
    # YAML 1.1 reads 11:30 as the integer 690.
    config = yaml.safe_load("periods: [['07:00', 11:30]]")
    with pytest.raises(CalendarDataError, match="quote times"):
        working_hours_from_config(config)
