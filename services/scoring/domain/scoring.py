"""Scorecards: points per indicator, group subtotals, total, score on the 100 scale, band.

An indicator without data is "not measured": it scores nothing and its maximum is left out of
`measured_max`, so a unit is never punished (or flattered) for data nobody sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .counters import counter_values
from .scheme import Band, Indicator, Scheme

NO_DENOMINATOR = "no_denominator"  # no dossier in the denominator (e.g. nothing received)
INPUT_NOT_REPORTED = "input_not_reported"  # no dossier's source said yes or no
NO_EXTERNAL_INPUT = "no_external_input"  # the external value was never submitted


@dataclass(frozen=True)
class IndicatorLine:
    key: str
    group: str
    source: str
    max_points: float
    target: float | None
    numerator: int | None
    denominator: int | None
    rate: float | None
    points: float | None
    measured: bool
    reason: str | None = None  # why not measured; "<NO_EXTERNAL_INPUT>:<key>" for a deduction
    deductions: Mapping[str, float] = field(default_factory=dict)
    submitted: float | None = None  # the external value as submitted


@dataclass(frozen=True)
class GroupScore:
    key: str
    max_points: float
    measured_max: float
    points: float


@dataclass(frozen=True)
class Scorecard:
    scheme_key: str
    lines: tuple[IndicatorLine, ...]
    groups: tuple[GroupScore, ...]
    total: float
    max_points: float
    measured_max: float
    score_100: float | None  # total / measured_max * 100; None when nothing is measured
    band: Band | None

    @property
    def not_measured(self) -> tuple[str, ...]:
        return tuple(line.key for line in self.lines if not line.measured)

    def line(self, key: str) -> IndicatorLine:
        return next(line for line in self.lines if line.key == key)


def points_for(max_points: float, rate: float, target: float | None) -> float:
    """Pmax × min(1, rate / target) with a target, Pmax × rate without."""
    return max_points * (rate if target is None else min(1.0, rate / target))


def external_problems(scheme: Scheme, external: Mapping[str, float],
                      *, allow_unknown: bool = False) -> list[str]:
    """What is wrong with an external submission: unknown keys, values out of range."""
    if not external:
        return []
    kinds, out = scheme.external_inputs(), []
    maxima = {i.key: i.max_points for i in scheme.indicators}
    for key, value in external.items():
        if key not in kinds:
            if not allow_unknown:
                out.append(f"{key!r} is not an external input of scheme {scheme.key!r}")
            continue
        top = maxima[key] if kinds[key] == "points" else 1.0
        if not (math.isfinite(value) and 0 <= value <= top):
            out.append(f"{key!r}: {kinds[key]} must be within 0..{top:g}, got {value}")
    return out


def _not_measured(ind: Indicator, reason: str, **known: int | None) -> IndicatorLine:
    return IndicatorLine(ind.key, ind.group, ind.source, ind.max_points, ind.target,
                         known.get("num"), known.get("den"), None, None, False, reason)


def _line(ind: Indicator, values: Mapping[str, int], external: Mapping[str, float],
          ) -> IndicatorLine:
    if ind.source == "external":
        value = external.get(ind.key)
        if value is None:
            return _not_measured(ind, NO_EXTERNAL_INPUT)
        if ind.input_kind == "points":
            return IndicatorLine(ind.key, ind.group, ind.source, ind.max_points, None, None,
                                 None, None, value, True, submitted=value)
        return IndicatorLine(ind.key, ind.group, ind.source, ind.max_points, ind.target, None,
                             None, value, points_for(ind.max_points, value, ind.target), True,
                             submitted=value)
    assert ind.numerator is not None and ind.denominator is not None
    num = values[ind.numerator]
    den = values[ind.denominator]
    if den == 0:
        return _not_measured(ind, NO_DENOMINATOR, num=num, den=den)
    if ind.known is not None and values[ind.known] == 0:
        return _not_measured(ind, INPUT_NOT_REPORTED, num=num, den=den)
    rate = num / den
    deductions: dict[str, float] = {}
    if ind.formula == "complement":
        missing = [key for key in ind.deduct if key not in external]
        if missing:
            return _not_measured(ind, f"{NO_EXTERNAL_INPUT}:{missing[0]}", num=num, den=den)
        deductions = {key: external[key] for key in ind.deduct}
        rate = max(0.0, 1.0 - rate - sum(deductions.values()))
    return IndicatorLine(ind.key, ind.group, ind.source, ind.max_points, ind.target, num, den,
                         rate, points_for(ind.max_points, rate, ind.target), True,
                         deductions=deductions)


def score_unit(scheme: Scheme, counters: Mapping[str, int],
               external: Mapping[str, float] | None = None) -> Scorecard:
    """Score one unit's counters for one period. Raises ValueError on an out-of-range external
    value; keys the scheme does not use are ignored (a unit's inputs may serve several schemes).
    """
    external = dict(external or {})
    problems = external_problems(scheme, external, allow_unknown=True)
    if problems:
        raise ValueError("; ".join(problems))
    values = counter_values(counters, scheme.counter_refs)
    lines = tuple(_line(ind, values, external) for ind in scheme.indicators)
    measured = dict.fromkeys((g.key for g in scheme.groups), 0.0)
    points = dict(measured)
    for x in lines:
        if x.measured:
            measured[x.group] += x.max_points
        points[x.group] += x.points or 0.0
    groups = tuple(GroupScore(g.key, g.max_points, measured[g.key], points[g.key])
                   for g in scheme.groups)
    total = sum(g.points for g in groups)
    measured_max = sum(g.measured_max for g in groups)
    score_100 = total / measured_max * 100 if measured_max > 0 else None
    return Scorecard(scheme.key, lines, groups, total, scheme.max_points, measured_max,
                     score_100, scheme.band_for(score_100))
