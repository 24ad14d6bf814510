"""RPC reads and the period close: rankings, scorecards with the dossiers behind lost points."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.contracts import scoring as sc

from .adapters.uow import ScoringUnitOfWork
from .context import RANKED_LEVELS, ScoringContext, bounds_of, buckets_of, external_period
from .domain.scheme import Indicator, Scheme
from .domain.scoring import Scorecard
from .domain.scoring import score_unit as _score
from .rankings import compute_ranking


def _check_level(level: str) -> None:
    if level not in RANKED_LEVELS:
        raise ValueError(f"unknown level {level!r}: one of {', '.join(RANKED_LEVELS)}")


def get_ranking(uow: ScoringUnitOfWork, ctx: ScoringContext, scheme_key: str, level: str,
                period: str) -> sc.Ranking:
    """The frozen ranking of a closed period, else the ranking computed now."""
    scheme = ctx.scheme(scheme_key)
    _check_level(level)
    buckets_of(period, ctx.today)  # validates the period
    with uow:
        closed = uow.scores.closed(scheme.key, level, period)
        if closed is not None:
            return sc.Ranking(scheme=scheme.key, level=level, period=period, as_of=ctx.today,
                              closed=True, entries=[sc.RankingEntry(**e) for e in closed])
        entries = compute_ranking(uow.scores, ctx, scheme, level, period)
        last = uow.scores.last_snapshot(scheme.key, level, period)
        return sc.Ranking(scheme=scheme.key, level=level, period=period, as_of=ctx.today,
                          version=last[0] if last else None, entries=entries)


def close_period(uow: ScoringUnitOfWork, ctx: ScoringContext, period: str,
                 now: datetime) -> list[sc.Ranking]:
    """Freeze every scheme's ranking of every level for `period`. Closing twice keeps the first
    snapshot."""
    if period == sc.ROLLING_30:
        raise ValueError("a rolling window cannot be closed")
    buckets_of(period, ctx.today)
    out = []
    with uow:
        for scheme in ctx.schemes.values():
            for level in RANKED_LEVELS:
                entries = compute_ranking(uow.scores, ctx, scheme, level, period)
                dumped = [e.model_dump(mode="json") for e in entries]
                uow.scores.put_closed(scheme.key, level, period, dumped, now)
                kept = uow.scores.closed(scheme.key, level, period) or dumped
                out.append(sc.Ranking(scheme=scheme.key, level=level, period=period,
                                      as_of=ctx.today, closed=True,
                                      entries=[sc.RankingEntry(**e) for e in kept]))
        uow.commit()
    return out


def get_unit_history(uow: ScoringUnitOfWork, ctx: ScoringContext, scheme_key: str,
                     unit_code: str) -> sc.UnitHistory:
    """The unit's entries in every closed period of a scheme, oldest first."""
    scheme = ctx.scheme(scheme_key)
    with uow:
        closed = uow.scores.closed_of_scheme(scheme.key)
    periods = [sc.UnitHistoryEntry(period=period, level=level, entry=sc.RankingEntry(**e))
               for level, period, entries in closed for e in entries
               if e["unit_code"] == unit_code]
    return sc.UnitHistory(scheme=scheme.key, unit_code=unit_code, periods=periods)


def _costs(ind: Indicator, contribution: Mapping[str, int]) -> bool:
    """Whether one dossier cost points on a dossier-counted indicator. `distinct:` indicators
    count procedures, not dossiers, and are not attributed to a dossier."""
    if ind.source != "dossiers" or ind.numerator is None or ind.denominator is None:
        return False
    if ind.numerator.startswith("distinct:") or ind.denominator.startswith("distinct:"):
        return False
    if ind.formula == "complement":
        return bool(contribution.get(ind.numerator))
    return bool(contribution.get(ind.denominator)) and not contribution.get(ind.numerator)


def get_scorecard(uow: ScoringUnitOfWork, ctx: ScoringContext, scheme_key: str, unit_code: str,
                  period: str, limit: int = 50, offset: int = 0) -> sc.Scorecard:
    scheme = ctx.scheme(scheme_key)
    buckets = buckets_of(period, ctx.today)
    first, last = bounds_of(period, ctx.today)
    with uow:
        counters = uow.scores.counters([unit_code], buckets)[unit_code]
        external = uow.scores.external([unit_code], external_period(period, ctx.today))
        card = _score(scheme, counters, external[unit_code])
        measured = [i for i in scheme.indicators if card.line(i.key).measured]
        costly = []
        for entry in uow.scores.entries_of(unit_code, first.isoformat(), last.isoformat()):
            lost = [i.key for i in measured if _costs(i, entry.contribution)]
            if lost:
                costly.append(sc.CostlyDossier(dossier_code=entry.dossier_code,
                                               version=entry.version, indicators=lost))
    return _contract(scheme, card, unit_code, period, ctx, costly, limit, offset)


def _contract(scheme: Scheme, card: Scorecard, unit_code: str, period: str,
              ctx: ScoringContext, costly: list[sc.CostlyDossier], limit: int,
              offset: int) -> sc.Scorecard:
    lines = [sc.ScorecardLine(
        key=x.key, group=x.group, source=x.source, max_points=x.max_points, target=x.target,
        numerator=x.numerator, denominator=x.denominator, rate=x.rate, points=x.points,
        measured=x.measured, reason=x.reason, submitted=x.submitted,
        deductions=dict(x.deductions)) for x in card.lines]
    groups = [sc.GroupPoints(key=g.key, points=g.points, max_points=g.max_points,
                             measured_max=g.measured_max) for g in card.groups]
    return sc.Scorecard(
        scheme=scheme.key, unit_code=unit_code, period=period, as_of=ctx.today, lines=lines,
        groups=groups, total=card.total, max_points=card.max_points,
        measured_max=card.measured_max, score_100=card.score_100,
        band=card.band.key if card.band else None, not_measured=list(card.not_measured),
        costly_total=len(costly), costly=costly[offset:offset + limit], limit=limit,
        offset=offset)
