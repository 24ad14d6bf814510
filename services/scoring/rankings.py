"""Rankings from stored counters: score every unit of a level, rank, compare, publish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from services.contracts.scoring import ROLLING_30, GroupPoints, RankingChanged, RankingEntry

from .adapters.repository import ScoringRepository
from .adapters.uow import ScoringUnitOfWork
from .context import ScoringContext, buckets_of, external_period, units_of
from .domain.counters import Counters
from .domain.periods import previous_period
from .domain.ranking import rank
from .domain.scheme import Scheme
from .domain.scoring import Scorecard, score_unit

# Fields that depend on the previous snapshot itself; the rest decides whether anything changed.
_RELATIVE = ("previous_rank", "change")


class LevelInputs:
    """Counters and external inputs of every unit of one level for one period, read once and
    scored with every scheme."""

    def __init__(self, repo: ScoringRepository, ctx: ScoringContext, level: str,
                 period: str) -> None:
        self.units = units_of(ctx, level, period)
        buckets = buckets_of(period, ctx.today)
        self.counters: dict[str, Counters] = repo.counters(self.units, buckets)
        self.external = repo.external(self.units, external_period(period, ctx.today))

    def scorecards(self, scheme: Scheme) -> dict[str, Scorecard]:
        return {u: score_unit(scheme, self.counters[u], self.external[u]) for u in self.units}


def _ranks(entries: Sequence[Mapping[str, Any]]) -> dict[str, int | None]:
    return {e["unit_code"]: e.get("rank") for e in entries}


def _previous_period_ranks(repo: ScoringRepository, ctx: ScoringContext, scheme: Scheme,
                           level: str, period: str) -> dict[str, int | None]:
    """The previous period's ranks: its frozen snapshot when closed, else computed now."""
    if period == ROLLING_30:
        return {}
    before = previous_period(period)
    closed = repo.closed(scheme.key, level, before)
    if closed is not None:
        return _ranks(closed)
    cards = LevelInputs(repo, ctx, level, before).scorecards(scheme)
    return {e.unit_code: e.rank for e in rank((u, c.score_100) for u, c in cards.items())}


def compute_ranking(repo: ScoringRepository, ctx: ScoringContext, scheme: Scheme, level: str,
                    period: str, inputs: LevelInputs | None = None) -> list[RankingEntry]:
    """The ranking of one level for one period now, with rank changes against the last
    published snapshot and against the previous period."""
    inputs = inputs or LevelInputs(repo, ctx, level, period)
    cards = inputs.scorecards(scheme)
    ranked = rank(((u, c.score_100) for u, c in cards.items()), scheme.bands)
    last = repo.last_snapshot(scheme.key, level, period)
    before = _ranks(last[1]) if last else {}
    period_ranks = _previous_period_ranks(repo, ctx, scheme, level, period)
    out = []
    for e in ranked:
        card = cards[e.unit_code]
        was, prev = period_ranks.get(e.unit_code), before.get(e.unit_code)
        out.append(RankingEntry(
            unit_code=e.unit_code, rank=e.rank, previous_rank=prev,
            change=None if prev is None or e.rank is None else prev - e.rank,
            previous_period_rank=was,
            period_change=None if was is None or e.rank is None else was - e.rank,
            score_100=card.score_100, total=card.total, measured_max=card.measured_max,
            band=card.band.key if card.band else None,
            groups=[GroupPoints(key=g.key, points=g.points, max_points=g.max_points,
                                measured_max=g.measured_max) for g in card.groups]))
    return out


def _core(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k not in _RELATIVE} for e in entries]


def publish_if_changed(uow: ScoringUnitOfWork, ctx: ScoringContext, scheme: Scheme, level: str,
                       period: str, now: datetime, inputs: LevelInputs | None = None,
                       ) -> RankingChanged | None:
    """Store and emit (through the outbox) a new snapshot when the ranking moved."""
    repo = uow.scores
    entries = compute_ranking(repo, ctx, scheme, level, period, inputs)
    dumped = [e.model_dump(mode="json") for e in entries]
    last = repo.last_snapshot(scheme.key, level, period)
    unchanged = _core(last[1]) == _core(dumped) if last is not None else not dumped
    if unchanged:  # an empty level (no unit existed in the period) is never published
        return None
    version = 1 if last is None else last[0] + 1
    repo.add_snapshot(scheme.key, level, period, version, dumped, now)
    event = RankingChanged(scheme=scheme.key, level=level, period=period, as_of=ctx.today,
                           version=version, entries=entries)
    uow.emit(event)
    return event
