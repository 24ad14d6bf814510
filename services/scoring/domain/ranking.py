"""Rankings: competition ranking (1, 2, 2, 4) on scores as shown (two decimals)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .scheme import Band, band_for


@dataclass(frozen=True)
class RankedEntry:
    unit_code: str
    score: float | None  # score on the 100 scale; None when nothing was measured
    rank: int | None  # None for units with no score: listed last, not ranked
    band: Band | None = None


def rank(entries: Iterable[tuple[str, float | None]],
         bands: Sequence[Band] = ()) -> list[RankedEntry]:
    """Rank units best first. Scores equal to two decimals share a rank and the next rank skips
    (1, 2, 2, 4); ties are listed by unit code so the order is deterministic."""
    pairs = list(entries)
    codes = [code for code, _ in pairs]
    if len(set(codes)) != len(codes):
        raise ValueError("a unit appears twice in one ranking")
    scored = sorted(((round(s, 2), code, s) for code, s in pairs if s is not None),
                    key=lambda t: (-t[0], t[1]))
    out: list[RankedEntry] = []
    place, last_shown = 0, None
    for position, (shown, code, score) in enumerate(scored, start=1):
        if shown != last_shown:
            place, last_shown = position, shown
        out.append(RankedEntry(code, score, place, band_for(bands, score)))
    out += [RankedEntry(code, None, None) for code, s in sorted(pairs) if s is None]
    return out


def rank_changes(current: Iterable[RankedEntry],
                 previous: Iterable[RankedEntry]) -> dict[str, int | None]:
    """Per unit of `current`: previous rank - current rank (positive = moved up); None when the
    unit had no rank before or has none now."""
    before = {e.unit_code: e.rank for e in previous}
    out: dict[str, int | None] = {}
    for e in current:
        was = before.get(e.unit_code)
        out[e.unit_code] = None if e.rank is None or was is None else was - e.rank
    return out
