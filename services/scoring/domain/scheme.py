"""Scoring schemes as data: groups, indicators, bands. A scheme validates itself on creation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from .contribution import is_counter_ref

SOURCES = ("dossiers", "external")
FORMULAS = ("rate", "complement")
INPUT_KINDS = ("rate", "points")
_EPS = 1e-6


class SchemeError(ValueError):
    """A scheme that cannot be scored; the message lists every problem found."""


@dataclass(frozen=True)
class Band:
    min_score: float  # on the 100 scale, inclusive
    key: str
    name_vi: str
    name_en: str


DEFAULT_BANDS = (
    Band(90, "excellent", "Xuất sắc", "Excellent"),
    Band(80, "good", "Tốt", "Good"),
    Band(70, "fair", "Khá", "Fair"),
    Band(50, "average", "Trung bình", "Average"),
    Band(0, "weak", "Yếu", "Weak"),
)


def band_for(bands: Sequence[Band], score_100: float | None) -> Band | None:
    """The highest band whose minimum the score (rounded to 2 decimals, as shown) reaches."""
    if score_100 is None:
        return None
    shown = round(score_100, 2)
    reached = [b for b in bands if shown >= b.min_score]
    return max(reached, key=lambda b: b.min_score) if reached else None


@dataclass(frozen=True)
class Group:
    key: str
    name_vi: str
    name_en: str
    max_points: float


@dataclass(frozen=True)
class Indicator:
    """One scored indicator.

    dossiers source: rate = numerator / denominator (counter refs); `known` names the counter of
    dossiers whose source reported the input (0 means "not measured"). formula "complement":
    rate = 1 - numerator/denominator - sum of the external rates named in `deduct`.
    external source: the submitted value under `key` is a rate (0..1) or points (0..max_points),
    as `input_kind` says. points = max_points * min(1, rate/target), or max_points * rate.
    """

    key: str
    name_vi: str
    name_en: str
    group: str
    max_points: float
    source: str = "dossiers"
    target: float | None = None
    numerator: str | None = None
    denominator: str | None = None
    known: str | None = None
    formula: str = "rate"
    deduct: tuple[str, ...] = ()
    input_kind: str = "rate"


@dataclass(frozen=True)
class Scheme:
    key: str
    name_vi: str
    name_en: str
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]
    bands: tuple[Band, ...] = DEFAULT_BANDS

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "bands", tuple(sorted(self.bands, key=lambda b: -b.min_score)))
        problems = scheme_problems(self)
        if problems:
            raise SchemeError(f"scheme {self.key!r}: " + "; ".join(problems))

    @property
    def max_points(self) -> float:
        return sum(g.max_points for g in self.groups)

    def indicators_of(self, group_key: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.group == group_key)

    def external_inputs(self) -> dict[str, str]:
        """Keys a unit's external submission may carry -> "rate" or "points"."""
        return dict(self._external_inputs)

    # Computed once per scheme (a scheme is immutable): scoring runs them for every unit.
    @cached_property
    def _external_inputs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for ind in self.indicators:
            if ind.source == "external":
                out[ind.key] = ind.input_kind
            out.update((key, "rate") for key in ind.deduct)
        return out

    @cached_property
    def counter_refs(self) -> tuple[str, ...]:
        """Every counter reference the indicators read (numerators, denominators, known)."""
        refs = [r for i in self.indicators for r in (i.numerator, i.denominator, i.known) if r]
        return tuple(dict.fromkeys(refs))

    def band_for(self, score_100: float | None) -> Band | None:
        return band_for(self.bands, score_100)


def _indicator_problems(ind: Indicator) -> list[str]:
    where, out = f"indicator {ind.key!r}", []
    if not ind.max_points > 0:
        out.append(f"{where}: max_points must be > 0")
    if ind.target is not None and not 0 < ind.target <= 1:
        out.append(f"{where}: target must be a fraction in (0, 1], got {ind.target}")
    choices = (("source", ind.source, SOURCES), ("formula", ind.formula, FORMULAS),
               ("input_kind", ind.input_kind, INPUT_KINDS))
    for name, value, allowed in choices:
        if value not in allowed:
            out.append(f"{where}: {name} must be one of {allowed}, got {value!r}")
    refs = {"numerator": ind.numerator, "denominator": ind.denominator, "known": ind.known}
    if ind.source == "dossiers":
        if ind.numerator is None or ind.denominator is None:
            out.append(f"{where}: a dossiers indicator needs numerator and denominator")
        out += [f"{where}: {name} {ref!r} is not a known counter"
                for name, ref in refs.items() if ref is not None and not is_counter_ref(ref)]
    elif ind.source == "external":
        if any(refs.values()) or ind.formula != "rate":
            out.append(f"{where}: an external indicator takes no counters and formula 'rate'")
        if ind.input_kind == "points" and ind.target is not None:
            out.append(f"{where}: an indicator submitted as points takes no target")
    if ind.deduct and ind.formula != "complement":
        out.append(f"{where}: deduct is only meaningful with formula 'complement'")
    return out


def scheme_problems(scheme: Scheme) -> list[str]:
    out: list[str] = [] if scheme.key else ["scheme key is empty"]
    group_keys = [g.key for g in scheme.groups]
    ind_keys = [i.key for i in scheme.indicators]
    for kind, keys in (("group", group_keys), ("indicator", ind_keys),
                       ("band", [b.key for b in scheme.bands])):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        out += [f"duplicate {kind} key {k!r}" for k in twice]
    if not scheme.groups:
        out.append("a scheme needs at least one group")
    for ind in scheme.indicators:
        out += _indicator_problems(ind)
        if ind.group not in group_keys:
            out.append(f"indicator {ind.key!r}: unknown group {ind.group!r}")
        out += [f"indicator {ind.key!r}: deduct key {k!r} clashes with an indicator key"
                for k in ind.deduct if k in ind_keys]
    for group in scheme.groups:
        members = scheme.indicators_of(group.key)
        total = sum(i.max_points for i in members)
        if not members:
            out.append(f"group {group.key!r} has no indicators")
        elif not math.isclose(total, group.max_points, abs_tol=_EPS):
            out.append(f"group {group.key!r}: max_points {group.max_points:g} but its "
                       f"indicators add up to {total:g}")
    if scheme.max_points > 100 + _EPS:
        out.append(f"total max_points {scheme.max_points:g} exceeds 100")
    out += [f"band {b.key!r}: min_score must be within 0..100"
            for b in scheme.bands if not 0 <= b.min_score <= 100]
    return out
