"""Province reference data: the unit registry and the procedure catalogue, read from YAML.

It is read once at every service start and everything else trusts it, so it is checked strictly
here: a typo in a parent code or a date would otherwise surface months later as a dossier filed
under a unit nobody can rank. The format is described in data/provinces/README.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import yaml

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "provinces"
STATUTORY_UNITS = frozenset({"working_days", "working_hours", "calendar_days"})
ONLINE_LEVELS = frozenset({"full", "partial", "none"})


class ReferenceDataError(ValueError):
    """Reference data is missing or inconsistent; the message names the file and the entry."""


class UnitLevel(StrEnum):
    PROVINCE = "province"
    DEPARTMENT = "department"
    BRANCH = "branch"  # vertical branch: police, tax, social insurance, land registry
    COMMUNE = "commune"  # xã, phường, đặc khu
    DISTRICT = "district"  # abolished on 2025-07-01; kept so older dossiers keep their unit


@dataclass(frozen=True, kw_only=True)
class Unit:
    code: str
    name: str
    name_en: str | None = None
    level: UnitLevel
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None  # exclusive: the first day the unit no longer exists
    successor_code: str | None = None  # the unit it was merged into

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", UnitLevel(self.level))
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError(f"valid_to {self.valid_to} is not after valid_from {self.valid_from}")
        if self.successor_code is not None and self.valid_to is None:
            raise ValueError("successor_code is set but valid_to is not")

    def is_valid_on(self, d: date) -> bool:
        return (self.valid_from is None or self.valid_from <= d) and (
            self.valid_to is None or d < self.valid_to
        )


@dataclass(frozen=True, kw_only=True)
class Procedure:
    code: str
    name: str
    field_code: str
    field_name: str
    statutory_amount: float
    statutory_unit: str
    online_level: str
    fee_bearing: bool
    payable_on_national_portal: bool
    levels: tuple[UnitLevel, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(UnitLevel(lv) for lv in self.levels))
        amount = self.statutory_amount
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ValueError(f"statutory_amount {amount!r} is not a number")
        if not (math.isfinite(amount) and amount > 0):
            raise ValueError(f"statutory_amount {amount!r} must be a positive number")
        object.__setattr__(self, "statutory_amount", float(amount))
        if not isinstance(self.statutory_unit, str) or self.statutory_unit not in STATUTORY_UNITS:
            raise ValueError(f"statutory_unit {self.statutory_unit!r} is not one of "
                             f"{sorted(STATUTORY_UNITS)}")
        if not isinstance(self.online_level, str) or self.online_level not in ONLINE_LEVELS:
            raise ValueError(f"online_level {self.online_level!r} is not one of "
                             f"{sorted(ONLINE_LEVELS)}")
        if not self.levels or len(set(self.levels)) != len(self.levels):
            raise ValueError("levels must be a non-empty list without repeats")
        if self.payable_on_national_portal and not self.fee_bearing:
            raise ValueError("payable_on_national_portal is true but fee_bearing is false")


@dataclass(frozen=True, kw_only=True)
class Province:
    code: str
    name: str
    name_en: str
    units: tuple[Unit, ...]
    procedures: tuple[Procedure, ...]
    working_hours: dict[str, Any] | None = None  # passed through to the working calendar
    sample: bool = False
    _unit_index: dict[str, Unit] = field(init=False, repr=False, compare=False)
    _procedure_index: dict[str, Procedure] = field(init=False, repr=False, compare=False)
    _level_index: dict[UnitLevel, tuple[Unit, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        units = {u.code: u for u in self.units}
        procedures = {p.code: p for p in self.procedures}
        if len(units) != len(self.units) or len(procedures) != len(self.procedures):
            raise ValueError("unit and procedure codes must be unique")
        by_level: dict[UnitLevel, list[Unit]] = {}
        for unit in self.units:
            by_level.setdefault(unit.level, []).append(unit)
        object.__setattr__(self, "_unit_index", units)
        object.__setattr__(self, "_procedure_index", procedures)
        object.__setattr__(self, "_level_index", {k: tuple(v) for k, v in by_level.items()})

    def unit(self, code: str) -> Unit | None:
        return self._unit_index.get(code)

    def procedure(self, code: str) -> Procedure | None:
        return self._procedure_index.get(code)

    def units_at(self, level: UnitLevel | str, on: date) -> tuple[Unit, ...]:
        """Units of one level that exist on a day, in file order."""
        return tuple(u for u in self._level_index.get(UnitLevel(level), ()) if u.is_valid_on(on))


def load_province(code: str, data_dir: Path = DEFAULT_DATA_DIR) -> Province:
    """Read and check data_dir/<code>/{province,units,procedures}.yaml."""
    if not code or code != Path(code).name or code.startswith("."):
        raise ReferenceDataError(f"province code {code!r} is not a directory name")
    root = Path(data_dir) / code
    head = _Entry(root / "province.yaml", "top level", _read(root / "province.yaml"),
                  required={"code", "name", "name_en"}, optional={"sample", "working_hours"})
    if head.text("code") != code:
        raise head.error(f"code {head.raw['code']!r} does not match the directory name {code!r}")
    working_hours = head.raw.get("working_hours")
    if working_hours is not None and not isinstance(working_hours, dict):
        raise head.error("working_hours must be a mapping")
    sample = head.raw.get("sample", False)
    if not isinstance(sample, bool):
        raise head.error("sample must be true or false")
    return Province(code=code, name=head.text("name"), name_en=head.text("name_en"),
                    units=_load_units(root / "units.yaml"),
                    procedures=_load_procedures(root / "procedures.yaml"),
                    working_hours=working_hours, sample=sample)


# Dates stay strings while parsing so a bad one is reported with its entry, not as a YAML error.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class _Loader(_BaseLoader):
    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNIT_KEYS = {"parent_code", "name_en", "valid_from", "valid_to", "successor_code"}
_PROCEDURE_KEYS = {"code", "name", "field", "statutory_amount", "statutory_unit", "online_level",
                   "fee_bearing", "payable_on_national_portal", "levels"}


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_bytes(), Loader=_Loader)  # a safe loader, see _Loader
    except FileNotFoundError:
        raise ReferenceDataError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ReferenceDataError(f"{path}: invalid YAML: {exc}") from None


class _Entry:
    """One mapping in a file, with typed getters whose errors say where the entry is."""

    def __init__(self, path: Path, where: str, raw: Any, *, required: set[str],
                 optional: set[str] | None = None) -> None:
        self.path, self.where = path, where
        if not isinstance(raw, dict):
            raise self.error(f"must be a mapping, got {type(raw).__name__}")
        self.raw: dict[Any, Any] = raw
        if isinstance(raw.get("code"), str):
            self.where = f"{where} (code {raw['code']!r})"
        if missing := sorted(required - raw.keys()):
            raise self.error(f"missing key(s) {', '.join(missing)}")
        if unknown := sorted(map(str, raw.keys() - required - (optional or set()))):
            raise self.error(f"unknown key(s) {', '.join(unknown)}")

    def error(self, message: str) -> ReferenceDataError:
        return ReferenceDataError(f"{self.path}: {self.where}: {message}")

    def text(self, key: str, required: bool = True) -> str:
        value = self.raw.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{key} must be a non-empty string, got {value!r}{_hint(value)}")
        return value

    def day(self, key: str) -> date | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, str) and _DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(f"{key} {value!r} is not a date (YYYY-MM-DD)")

    def flag(self, key: str) -> bool:
        value = self.raw[key]
        if not isinstance(value, bool):
            raise self.error(f"{key} must be true or false, got {value!r}")
        return value

    def build(self, cls: type[Any], **kwargs: Any) -> Any:
        try:
            return cls(**kwargs)
        except ValueError as exc:
            raise self.error(str(exc)) from None


def _hint(value: Any) -> str:
    if isinstance(value, bool):
        return " (quote it: YAML reads yes/no/on/off as true/false)"
    if isinstance(value, int | float):
        return " (quote it: YAML reads it as a number)"
    return ""


def _level(entry: _Entry, value: Any) -> UnitLevel:
    try:
        return UnitLevel(value)
    except ValueError:
        raise entry.error(f"unknown level {value!r}; expected one of "
                          f"{', '.join(lv.value for lv in UnitLevel)}") from None


def _items(path: Path, raw: Any, key: str, others: set[str]) -> list[Any]:
    top = _Entry(path, "top level", raw, required={key}, optional=others)
    if not isinstance(top.raw[key], list) or not top.raw[key]:
        raise top.error(f"{key} must be a non-empty list")
    items: list[Any] = top.raw[key]
    return items


def _load_units(path: Path) -> tuple[Unit, ...]:
    units: dict[str, tuple[_Entry, Unit]] = {}
    for i, raw in enumerate(_items(path, _read(path), "units", set()), start=1):
        e = _Entry(path, f"entry {i}", raw, required={"code", "name", "level"},
                   optional=_UNIT_KEYS)
        unit = e.build(Unit, code=e.text("code"), name=e.text("name"),
                       name_en=e.text("name_en", False) or None, level=_level(e, e.raw["level"]),
                       parent_code=e.text("parent_code", False) or None,
                       valid_from=e.day("valid_from"), valid_to=e.day("valid_to"),
                       successor_code=e.text("successor_code", False) or None)
        if unit.code in units:
            raise e.error(f"duplicate code, first defined at {units[unit.code][0].where}")
        units[unit.code] = (e, unit)
    by_code = {code: u for code, (_, u) in units.items()}
    for e, unit in units.values():
        _check_links(e, unit, by_code)
    return tuple(by_code.values())


def _check_links(e: _Entry, unit: Unit, units: dict[str, Unit]) -> None:
    if unit.parent_code is not None:
        parent = units.get(unit.parent_code)
        if parent is None:
            raise e.error(f"unknown parent_code {unit.parent_code!r}")
        if not _covers(parent, unit):
            raise e.error(f"parent {parent.code!r} does not exist for the whole life of the unit")
        seen: set[str] = set()
        up: Unit | None = unit
        while up is not None and up.parent_code is not None:
            if up.code in seen:
                raise e.error(f"parent_code chain loops back through {up.code!r}")
            seen.add(up.code)
            up = units.get(up.parent_code)
    if unit.successor_code is not None:
        successor = units.get(unit.successor_code)
        if successor is unit:
            raise e.error("successor_code names the unit itself")
        if successor is None:
            raise e.error(f"unknown successor_code {unit.successor_code!r}")
        if unit.valid_to is not None and not successor.is_valid_on(unit.valid_to):
            raise e.error(f"successor {successor.code!r} does not exist on {unit.valid_to}")


def _covers(outer: Unit, inner: Unit) -> bool:
    starts_ok = outer.valid_from is None or (
        inner.valid_from is not None and outer.valid_from <= inner.valid_from)
    ends_ok = outer.valid_to is None or (
        inner.valid_to is not None and inner.valid_to <= outer.valid_to)
    return starts_ok and ends_ok


def _load_procedures(path: Path) -> tuple[Procedure, ...]:
    raw = _read(path)
    items = _items(path, raw, "procedures", {"fields"})
    fields = raw.get("fields") or {}
    if not isinstance(fields, dict):
        raise ReferenceDataError(f"{path}: fields must map field codes to field names")
    for key, name in fields.items():
        if not isinstance(key, str) or not isinstance(name, str) or not name.strip():
            raise ReferenceDataError(f"{path}: fields: {key!r}: {name!r}: field codes and names "
                                     f"must be non-empty strings{_hint(key)}")
    procedures: dict[str, tuple[_Entry, Procedure]] = {}
    for i, item in enumerate(items, start=1):
        e = _Entry(path, f"entry {i}", item, required=_PROCEDURE_KEYS)
        field_code = e.text("field")
        if field_code not in fields:
            raise e.error(f"unknown field {field_code!r}; declare it under fields")
        levels = e.raw["levels"]
        if not isinstance(levels, list):
            raise e.error("levels must be a list, e.g. [commune]")
        proc = e.build(Procedure, code=e.text("code"), name=e.text("name"),
                       field_code=field_code, field_name=fields[field_code],
                       statutory_amount=e.raw["statutory_amount"],
                       statutory_unit=e.raw["statutory_unit"],
                       online_level=e.raw["online_level"], fee_bearing=e.flag("fee_bearing"),
                       payable_on_national_portal=e.flag("payable_on_national_portal"),
                       levels=tuple(_level(e, lv) for lv in levels))
        if proc.code in procedures:
            raise e.error(f"duplicate code, first defined at {procedures[proc.code][0].where}")
        procedures[proc.code] = (e, proc)
    return tuple(p for _, p in procedures.values())
