"""Which units file dossiers on a given day, and with which procedures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .model import ProcedureLike, ProvinceLike, UnitLike

# The province files nothing itself; districts were abolished on 2025-07-01.
SKIPPED_LEVELS = frozenset({"province", "district"})
LEVEL_WEIGHT = {"department": 3.0, "branch": 3.0}  # a department sees more dossiers than a commune


@dataclass(frozen=True)
class Catalogue:
    """Units that exist on a day and file dossiers, and the procedures of each level, weighted
    towards the first listed (a few procedures make most of the traffic)."""

    units: list[UnitLike]
    unit_weights: list[float]
    procedures: dict[str, tuple[list[ProcedureLike], list[float]]]

    @staticmethod
    def build(province: ProvinceLike, on: date) -> Catalogue:
        by_level: dict[str, tuple[list[ProcedureLike], list[float]]] = {}
        for level in {str(u.level) for u in province.units} - SKIPPED_LEVELS:
            procs = [p for p in province.procedures if level in {str(lv) for lv in p.levels}]
            if procs:
                by_level[level] = (procs, _cumulative([1 / (i + 1) ** 0.8
                                                       for i in range(len(procs))]))
        units = [u for u in province.units
                 if str(u.level) in by_level and u.is_valid_on(on)]
        if not units:
            raise ValueError(f"province {province.code!r} has no unit filing dossiers on {on}")
        weights = _cumulative([LEVEL_WEIGHT.get(str(u.level), 1.0) for u in units])
        return Catalogue(units, weights, by_level)


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out
