"""Load scoring schemes from YAML files (data/schemes/*.yaml). Errors name the file and field."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .domain.scheme import DEFAULT_BANDS, Band, Group, Indicator, Scheme, SchemeError

_SCHEME_KEYS = {"key", "name_vi", "name_en", "bands", "groups"}
_GROUP_KEYS = {"key", "name_vi", "name_en", "max_points", "indicators"}
_BAND_KEYS = {"min_score", "key", "name_vi", "name_en"}
_INDICATOR_KEYS = {"key", "name_vi", "name_en", "max_points", "source", "target", "numerator",
                   "denominator", "known", "formula", "deduct", "input_kind"}


def _mapping(value: Any, where: str, allowed: set[str], required: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SchemeError(f"{where}: expected a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    missing = sorted(required - set(value))
    if unknown:
        raise SchemeError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    if missing:
        raise SchemeError(f"{where}: missing field(s) {missing}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise SchemeError(f"{where}: expected a non-empty list")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemeError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _target(value: Any, where: str) -> float | None:
    """A fraction (0.8) or a percentage string ("80%")."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            raise SchemeError(f"{where}: bad percentage {value!r}") from None
    return _number(value, where)


def _band(raw: Any, where: str) -> Band:
    b = _mapping(raw, where, _BAND_KEYS, _BAND_KEYS)
    return Band(_number(b["min_score"], f"{where}.min_score"), str(b["key"]), str(b["name_vi"]),
                str(b["name_en"]))


def _ref(d: Mapping[str, Any], name: str, where: str) -> str | None:
    value = d.get(name)
    if value is not None and not isinstance(value, str):
        raise SchemeError(f"{where}.{name}: expected a counter name, got {value!r}")
    return value


def _indicator(raw: Any, group: str, where: str) -> Indicator:
    d = _mapping(raw, where, _INDICATOR_KEYS, {"key", "name_vi", "name_en", "max_points"})
    deduct = d.get("deduct") or []
    if not isinstance(deduct, list) or not all(isinstance(k, str) for k in deduct):
        raise SchemeError(f"{where}.deduct: expected a list of input keys")
    return Indicator(
        key=str(d["key"]), name_vi=str(d["name_vi"]), name_en=str(d["name_en"]), group=group,
        max_points=_number(d["max_points"], f"{where}.max_points"),
        source=str(d.get("source", "dossiers")), target=_target(d.get("target"), f"{where}.target"),
        numerator=_ref(d, "numerator", where), denominator=_ref(d, "denominator", where),
        known=_ref(d, "known", where),
        formula=str(d.get("formula", "rate")), deduct=tuple(deduct),
        input_kind=str(d.get("input_kind", "rate")),
    )


def scheme_from_dict(doc: Any, default_key: str = "") -> Scheme:
    """Build and validate a Scheme from parsed YAML; raises SchemeError."""
    d = _mapping(doc, "scheme", _SCHEME_KEYS, {"name_vi", "name_en", "groups"})
    groups: list[Group] = []
    indicators: list[Indicator] = []
    for gi, raw_group in enumerate(_list(d["groups"], "groups")):
        where = f"groups[{gi}]"
        g = _mapping(raw_group, where, _GROUP_KEYS, _GROUP_KEYS)
        groups.append(Group(str(g["key"]), str(g["name_vi"]), str(g["name_en"]),
                            _number(g["max_points"], f"{where}.max_points")))
        indicators += [_indicator(raw, str(g["key"]), f"{where}.indicators[{ii}]")
                       for ii, raw in enumerate(_list(g["indicators"], f"{where}.indicators"))]
    bands: tuple[Band, ...] = DEFAULT_BANDS
    if "bands" in d:
        bands = tuple(_band(b, f"bands[{bi}]") for bi, b in enumerate(_list(d["bands"], "bands")))
    return Scheme(str(d.get("key") or default_key), str(d["name_vi"]), str(d["name_en"]),
                  tuple(groups), tuple(indicators), bands)


def load_scheme(path: str | Path) -> Scheme:
    """One scheme file; its key defaults to the file name without extension."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemeError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise SchemeError(f"{path}: not valid YAML: {exc}") from None
    try:
        return scheme_from_dict(doc, default_key=path.stem)
    except SchemeError as exc:
        raise SchemeError(f"{path}: {exc}") from None


def load_schemes(directory: str | Path) -> dict[str, Scheme]:
    """Every *.yaml / *.yml scheme in a directory, by scheme key."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SchemeError(f"{directory}: not a directory")
    schemes: dict[str, Scheme] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        scheme = load_scheme(path)
        if scheme.key in schemes:
            raise SchemeError(f"{path}: scheme key {scheme.key!r} is already used by another file")
        schemes[scheme.key] = scheme
    if not schemes:
        raise SchemeError(f"{directory}: no scheme files (*.yaml)")
    return schemes
