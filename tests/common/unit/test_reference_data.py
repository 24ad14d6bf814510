"""Province reference data: the shipped demo province, and the loader's checks on bad files."""

import dataclasses
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.common.calendar_data import working_hours_from_config
from services.common.reference import (
    ONLINE_LEVELS,
    STATUTORY_UNITS,
    Procedure,
    Province,
    ReferenceDataError,
    Unit,
    UnitLevel,
    load_province,
)

DEMO = load_province("demo")
TODAY = date(2025, 8, 1)
MERGER = date(2025, 7, 1)  # districts abolished, communes merged
DEPARTMENT_REFORM = date(2025, 3, 1)  # departments merged


# ---------------------------------------------------------------------- the demo province


def test_demo_is_marked_as_sample_data() -> None:
    assert DEMO.code == "demo"
    assert DEMO.sample is True
    assert "mẫu" in DEMO.name
    for name in ("province.yaml", "units.yaml", "procedures.yaml"):
        head = (Path(__file__).parents[3] / "data/provinces/demo" / name).read_text("utf-8")
        assert head.startswith("# SAMPLE DATA"), name


def test_demo_working_hours_are_the_domain_default_and_readable_by_the_calendar() -> None:
    assert DEMO.working_hours == {
        "timezone": "Asia/Ho_Chi_Minh",
        "periods": [["07:00", "11:30"], ["13:30", "17:00"]],
    }
    hours = working_hours_from_config(DEMO.working_hours)
    assert hours.tz.key == "Asia/Ho_Chi_Minh"
    assert len(hours.periods) == 2


@pytest.mark.parametrize(
    ("level", "on", "count"),
    [
        (UnitLevel.PROVINCE, TODAY, 1),
        (UnitLevel.DEPARTMENT, TODAY, 16),
        (UnitLevel.BRANCH, TODAY, 4),
        (UnitLevel.COMMUNE, TODAY, 96),
        (UnitLevel.DISTRICT, TODAY, 0),
        (UnitLevel.COMMUNE, MERGER, 96),  # valid_from is inclusive
        (UnitLevel.DISTRICT, MERGER, 0),  # valid_to is exclusive
        (UnitLevel.DISTRICT, date(2025, 6, 30), 8),
        (UnitLevel.COMMUNE, date(2025, 6, 30), 23),  # the sample of pre-merger communes
        (UnitLevel.DEPARTMENT, date(2025, 2, 28), 21),  # 14 unchanged + 7 merged away
        (UnitLevel.DISTRICT, date(2019, 1, 1), 7),  # the town was created on 2020-02-01
    ],
)
def test_demo_unit_counts_by_level_and_day(level: UnitLevel, on: date, count: int) -> None:
    assert len(DEMO.units_at(level, on)) == count
    assert len(DEMO.units_at(level.value, on)) == count  # a plain string works too


def test_demo_has_the_2025_departments_and_branches() -> None:
    names = {u.name for u in DEMO.units_at(UnitLevel.DEPARTMENT, TODAY)}
    for expected in ("Sở Tư pháp", "Sở Tài chính", "Sở Nông nghiệp và Môi trường", "Sở Nội vụ",
                     "Sở Dân tộc và Tôn giáo", "Thanh tra tỉnh", "Ban Quản lý các khu công nghiệp"):
        assert expected in names
    assert "Sở Kế hoạch và Đầu tư" not in names
    branches = {u.name for u in DEMO.units_at(UnitLevel.BRANCH, TODAY)}
    assert branches == {"Công an tỉnh", "Thuế tỉnh", "Bảo hiểm xã hội tỉnh",
                        "Văn phòng Đăng ký đất đai"}


def test_demo_lookups() -> None:
    justice = DEMO.unit("H99.01")
    assert justice is not None and justice.name == "Sở Tư pháp"
    assert justice.name_en == "Department of Justice"
    assert justice.level is UnitLevel.DEPARTMENT
    assert DEMO.unit("H99.99") is None
    assert all(DEMO.unit(u.code) is u for u in DEMO.units)
    assert all(DEMO.procedure(p.code) is p for p in DEMO.procedures)
    assert DEMO.procedure("9.999999") is None
    birth = next(p for p in DEMO.procedures if p.name == "Đăng ký khai sinh")
    assert (birth.field_name, birth.statutory_amount, birth.statutory_unit) == (
        "Hộ tịch", 1.0, "working_days")
    assert birth.levels == (UnitLevel.COMMUNE,)


def test_every_demo_unit_has_a_parent_for_its_whole_life() -> None:
    province = DEMO.units_at(UnitLevel.PROVINCE, TODAY)[0]
    for unit in DEMO.units:
        if unit is province:
            assert unit.parent_code is None
            continue
        parent = DEMO.unit(unit.parent_code or "")
        assert parent is not None, unit.code
        first = unit.valid_from or date(1990, 1, 1)
        last = date.fromordinal((unit.valid_to or date(2030, 1, 1)).toordinal() - 1)
        assert parent.is_valid_on(first) and parent.is_valid_on(last), unit.code
    for commune in DEMO.units_at(UnitLevel.COMMUNE, TODAY):
        assert commune.parent_code == province.code  # two tiers: no district in between
    for commune in DEMO.units_at(UnitLevel.COMMUNE, date(2025, 6, 30)):
        district = DEMO.unit(commune.parent_code or "")
        assert district is not None and district.level is UnitLevel.DISTRICT


def test_merged_units_hand_over_to_a_unit_that_exists_on_the_merger_day() -> None:
    ended = [(u, u.valid_to) for u in DEMO.units if u.valid_to is not None]
    assert len(ended) == 7 + 8 + 23
    for unit, end in ended:
        if unit.level is UnitLevel.DISTRICT and unit.successor_code is None:
            continue  # a district's work was split, not merged
        successor = DEMO.unit(unit.successor_code or "")
        assert successor is not None and successor.is_valid_on(end), unit.code
        assert successor.level is (
            UnitLevel.DEPARTMENT if unit.level is UnitLevel.DEPARTMENT else UnitLevel.COMMUNE)
    island = DEMO.unit("H99.48")
    assert island is not None and island.successor_code == "H99.50.96"


def test_demo_procedure_catalogue() -> None:
    procs = DEMO.procedures
    assert 55 <= len(procs) <= 80
    assert all(re.fullmatch(r"[12]\.00\d{4}", p.code) for p in procs)
    assert {p.statutory_unit for p in procs} == STATUTORY_UNITS
    assert {p.online_level for p in procs} == ONLINE_LEVELS
    assert all(p.fee_bearing for p in procs if p.payable_on_national_portal)
    assert any(p.fee_bearing and not p.payable_on_national_portal for p in procs)
    assert all(isinstance(p.statutory_amount, float) for p in procs)
    # Every procedure is handled by some unit that exists today.
    live_levels = {u.level for u in DEMO.units if u.is_valid_on(TODAY)}
    assert all(set(p.levels) & live_levels for p in procs)
    records = next(p for p in procs if p.name.startswith("Cấp Phiếu lý lịch tư pháp cho công dân"))
    assert (records.statutory_amount, records.statutory_unit) == (10.0, "working_days")
    certified = [p for p in procs if p.field_code == "CT" and p.statutory_unit == "working_hours"]
    assert certified


# ---------------------------------------------------------------------- the dataclasses


def test_unit_validity_is_inclusive_start_exclusive_end() -> None:
    unit = Unit(code="X", name="X", level="commune",  # type: ignore[arg-type]
                valid_from=date(2020, 1, 1), valid_to=date(2025, 7, 1))
    assert unit.level is UnitLevel.COMMUNE
    assert not unit.is_valid_on(date(2019, 12, 31))
    assert unit.is_valid_on(date(2020, 1, 1))
    assert unit.is_valid_on(date(2025, 6, 30))
    assert not unit.is_valid_on(date(2025, 7, 1))
    assert Unit(code="Y", name="Y", level=UnitLevel.PROVINCE).is_valid_on(date(1900, 1, 1))
    with pytest.raises(ValueError, match="not after valid_from"):
        Unit(code="X", name="X", level=UnitLevel.COMMUNE,
             valid_from=date(2025, 7, 1), valid_to=date(2025, 7, 1))


def _procedure(**changes: Any) -> Procedure:
    values: dict[str, object] = dict(
        code="1.000001", name="P", field_code="HT", field_name="Hộ tịch", statutory_amount=3,
        statutory_unit="working_days", online_level="full", fee_bearing=True,
        payable_on_national_portal=True, levels=("commune",))
    values.update(changes)
    return Procedure(**values)  # type: ignore[arg-type]


def test_procedure_normalises_and_validates() -> None:
    proc = _procedure()
    assert proc.statutory_amount == 3.0 and isinstance(proc.statutory_amount, float)
    assert proc.levels == (UnitLevel.COMMUNE,)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"statutory_unit": "weeks"}, "statutory_unit 'weeks'"),
        ({"statutory_amount": 0}, "must be a positive number"),
        ({"statutory_amount": float("nan")}, "must be a positive number"),
        ({"statutory_amount": True}, "is not a number"),
        ({"online_level": "some"}, "online_level 'some'"),
        ({"levels": ()}, "non-empty"),
        ({"fee_bearing": False}, "payable_on_national_portal is true but fee_bearing is false"),
    ]
    for changes, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            _procedure(**changes)


def test_province_is_immutable_and_rejects_duplicate_codes() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEMO.sample = False  # type: ignore[misc]
    unit = Unit(code="X", name="X", level=UnitLevel.PROVINCE)
    with pytest.raises(ValueError, match="unique"):
        Province(code="x", name="x", name_en="x", units=(unit, unit), procedures=())


# ---------------------------------------------------------------------- bad files

PROVINCE = """\
code: tiny
name: Tỉnh Nhỏ
name_en: Tiny Province
"""
UNITS = """\
units:
  - {code: X1, name: Tỉnh Nhỏ, level: province}
  - {code: "X1.01", name: Sở Tư pháp, level: department, parent_code: X1}
  - {code: "X1.50.01", name: Xã Một, level: commune, parent_code: X1, valid_from: 2025-07-01}
"""
PROCEDURES = """\
fields:
  HT: Hộ tịch
procedures:
  - code: "1.000001"
    name: Đăng ký khai sinh
    field: HT
    statutory_amount: 1
    statutory_unit: working_days
    online_level: full
    fee_bearing: false
    payable_on_national_portal: false
    levels: [commune]
"""
FILES = {"province.yaml": PROVINCE, "units.yaml": UNITS, "procedures.yaml": PROCEDURES}


def _write(tmp_path: Path, file: str = "", old: str = "", new: str = "") -> Path:
    """Writes the tiny province, with `old` replaced by `new` in one file (appended if no old)."""
    root = tmp_path / "tiny"
    root.mkdir()
    for name, text in FILES.items():
        if name == file:
            assert not old or old in text, old
            text = text.replace(old, new) if old else text + new
        (root / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_tiny_fixture_loads(tmp_path: Path) -> None:
    tiny = load_province("tiny", _write(tmp_path))
    assert (tiny.code, tiny.name_en, tiny.sample, tiny.working_hours) == (
        "tiny", "Tiny Province", False, None)
    assert [u.code for u in tiny.units] == ["X1", "X1.01", "X1.50.01"]
    assert tiny.units_at(UnitLevel.COMMUNE, date(2025, 6, 30)) == ()
    assert tiny.procedure("1.000001") is not None


U3 = '  - {code: "X1.50.01", name: Xã Một, level: commune, parent_code: X1, valid_from: 2025-07-01}'


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        # province.yaml
        ("province.yaml", "code: tiny", "code: other",
         "top level (code 'other'): code 'other' does not match the directory name 'tiny'"),
        ("province.yaml", "name: Tỉnh Nhỏ\n", "", "top level (code 'tiny'): missing key(s) name"),
        ("province.yaml", "", "colour: blue\n", "unknown key(s) colour"),
        ("province.yaml", "", "sample: maybe\n", "sample must be true or false"),
        ("province.yaml", "", "working_hours: [07:00]\n", "working_hours must be a mapping"),
        ("province.yaml", "", "  bad indent: [\n", "invalid YAML"),
        # units.yaml
        ("units.yaml", "units:", "unit:", "missing key(s) units"),
        ("units.yaml", UNITS, "units: []\n", "units must be a non-empty list"),
        ("units.yaml", "", "  - just a string\n", "entry 4: must be a mapping, got str"),
        ("units.yaml", "",
         '  - {code: "X1.01", name: Sở Y tế, level: department, parent_code: X1}\n',
         "entry 4 (code 'X1.01'): duplicate code, first defined at entry 2 (code 'X1.01')"),
        ("units.yaml", "level: department", "level: county",
         "entry 2 (code 'X1.01'): unknown level 'county'; expected one of province, department"),
        ("units.yaml", "parent_code: X1}", "parent_code: X9}",
         "entry 2 (code 'X1.01'): unknown parent_code 'X9'"),
        ("units.yaml", "valid_from: 2025-07-01", "valid_from: 2025-02-30",
         "entry 3 (code 'X1.50.01'): valid_from '2025-02-30' is not a date (YYYY-MM-DD)"),
        ("units.yaml", "valid_from: 2025-07-01", "valid_from: 2025-07-01 08:00",
         "valid_from '2025-07-01 08:00' is not a date"),
        ("units.yaml", "valid_from: 2025-07-01", "valid_from: 2025-07-01, valid_to: 2025-01-01",
         "entry 3 (code 'X1.50.01'): valid_to 2025-01-01 is not after valid_from 2025-07-01"),
        ("units.yaml", "valid_from: 2025-07-01", "valid_from: 2025-07-01, successor_code: X1",
         "successor_code is set but valid_to is not"),
        ("units.yaml", "valid_from: 2025-07-01",
         "valid_from: 2025-07-01, valid_to: 2026-01-01, successor_code: X2",
         "entry 3 (code 'X1.50.01'): unknown successor_code 'X2'"),
        ("units.yaml", "valid_from: 2025-07-01",
         'valid_from: 2025-07-01, valid_to: 2026-01-01, successor_code: "X1.50.01"',
         "successor_code names the unit itself"),
        ("units.yaml", "", '  - {code: "X1.41", name: Huyện Cũ, level: district, parent_code: X1, '
         'valid_to: 2025-06-01, successor_code: "X1.50.01"}\n',
         "entry 4 (code 'X1.41'): successor 'X1.50.01' does not exist on 2025-06-01"),
        ("units.yaml", "", '  - {code: "X1.50.01.1", name: Thôn, level: commune, '
         'parent_code: "X1.50.01"}\n',
         "entry 4 (code 'X1.50.01.1'): parent 'X1.50.01' does not exist for the whole life"),
        ("units.yaml", "{code: X1, name: Tỉnh Nhỏ, level: province}",
         '{code: X1, name: Tỉnh Nhỏ, level: province, parent_code: "X1.01"}',
         "entry 1 (code 'X1'): parent_code chain loops back through 'X1'"),
        ("units.yaml", "name: Xã Một", "name: No",
         "name must be a non-empty string, got False (quote it: YAML reads yes/no/on/off"),
        ("units.yaml", '{code: "X1.01"', "{code: 1.01", "entry 2: code must be a non-empty "
         "string, got 1.01 (quote it: YAML reads it as a number)"),
        ("units.yaml", U3, U3.replace("}", ", colour: red}"), "unknown key(s) colour"),
        # procedures.yaml
        ("procedures.yaml", "levels: [commune]\n", "", "entry 1 (code '1.000001'): missing key(s) "
         "levels"),
        ("procedures.yaml", "field: HT", "field: XX",
         "entry 1 (code '1.000001'): unknown field 'XX'; declare it under fields"),
        ("procedures.yaml", "HT: Hộ tịch", "HT: ''", "fields: 'HT': '': field codes and names"),
        ("procedures.yaml", "statutory_unit: working_days", "statutory_unit: weeks",
         "entry 1 (code '1.000001'): statutory_unit 'weeks' is not one of"),
        ("procedures.yaml", "statutory_amount: 1", "statutory_amount: -2",
         "statutory_amount -2 must be a positive number"),
        ("procedures.yaml", "statutory_amount: 1", "statutory_amount: 'ten'",
         "statutory_amount 'ten' is not a number"),
        ("procedures.yaml", "online_level: full", "online_level: mostly",
         "online_level 'mostly' is not one of"),
        ("procedures.yaml", "fee_bearing: false", "fee_bearing: maybe",
         "fee_bearing must be true or false, got 'maybe'"),
        ("procedures.yaml", "payable_on_national_portal: false",
         "payable_on_national_portal: true",
         "payable_on_national_portal is true but fee_bearing is false"),
        ("procedures.yaml", "levels: [commune]", "levels: []", "levels must be a non-empty list"),
        ("procedures.yaml", "levels: [commune]", "levels: commune", "levels must be a list"),
        ("procedures.yaml", "levels: [commune]", "levels: [hamlet]", "unknown level 'hamlet'"),
        ("procedures.yaml", 'code: "1.000001"', "code: 1.000001",
         "entry 1: code must be a non-empty string, got 1.000001 (quote it"),
        ("procedures.yaml", "", PROCEDURES.split("procedures:\n")[1],
         "entry 2 (code '1.000001'): duplicate code, first defined at entry 1 (code '1.000001')"),
    ],
)
def test_bad_reference_data_is_reported_with_file_and_entry(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    data_dir = _write(tmp_path, file, old, new)
    with pytest.raises(ReferenceDataError) as caught:
        load_province("tiny", data_dir)
    text = str(caught.value)
    assert text.startswith(f"{data_dir / 'tiny' / file}: "), text
    assert message in text
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("missing", ["province.yaml", "units.yaml", "procedures.yaml"])
def test_a_missing_file_is_named(tmp_path: Path, missing: str) -> None:
    data_dir = _write(tmp_path)
    (data_dir / "tiny" / missing).unlink()
    with pytest.raises(ReferenceDataError, match=re.escape(f"{missing}: file not found")):
        load_province("tiny", data_dir)


@pytest.mark.parametrize("code", ["", "../demo", ".hidden", "a/b"])
def test_a_province_code_must_be_a_plain_directory_name(code: str) -> None:
    with pytest.raises(ReferenceDataError, match="is not a directory name"):
        load_province(code)


def test_an_unknown_province_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match=r"nowhere[/\\]province\.yaml: file not found"):
        load_province("nowhere", tmp_path)
