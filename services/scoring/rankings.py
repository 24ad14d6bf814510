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

# Seconds between ranking passes (RANKING_INTERVAL), and between those that also rank the
# quarter, the year and rolling-30 (RANKING_LONG_INTERVAL): docs/scoring.md, docs/benchmarks.md.
DEFAULT_RANKING_INTERVAL = 0.5
DEFAULT_RANKING_LONG_INTERVAL = 2.0

# Fields that depend on the previous snapshot itself; the rest decides whether anything changed.
_RELATIVE = ("previous_rank", "change")

Key = tuple[str, str, str]  # scheme, level, period
# (scheme, period) pairs whose scorecards the cache keeps: the live and previous periods of
# every scheme with room to spare.
_MAX_CARD_PERIODS = 64
Snapshot = tuple[int, list[dict[str, Any]]]  # version, entries


class RankingCache:
    """What the ranker would otherwise recompute or re-read every pass, kept in the process.
    Every entry carries what it was computed from (the period's change counter, the snapshot's
    version) and is checked against the database before use: never served stale, whatever
    another replica did meanwhile."""

    def __init__(self) -> None:
        self.previous: dict[Key, tuple[int, dict[str, int | None]]] = {}
        self.last: dict[Key, Snapshot | None] = {}
        self.closed: dict[Key, dict[str, int | None]] = {}  # closed periods never change
        self.months: dict[Key, tuple[int, dict[str, Counters]]] = {}
        # Scorecards by (scheme, period), then unit, with the inputs they were computed from.
        self.cards: dict[tuple[str, str], dict[str, tuple[Counters, dict[str, float],
                                                           Scorecard]]] = {}
        # What the database said at the start of the current pass (RankingCache.begin).
        self.versions: dict[Key, int] = {}
        self.changes: dict[tuple[str, str], int] = {}
        self.closed_keys: set[Key] = set()

    def month(self, repo: ScoringRepository, level: str, month: str,
              units: list[str]) -> dict[str, Counters]:
        """The counters of a level's units in one month bucket, read only when the month's
        change count moved since they were (or a unit is missing: a new unit this period)."""
        key = ("", level, month)
        marker = self.changes.get((level, month), 0)
        kept = self.months.get(key)
        if kept is None or kept[0] != marker or not set(units) <= kept[1].keys():
            kept = (marker, repo.counters(units, [month]))
            self.months[key] = kept
        return kept[1]

    def scorecard(self, scheme: Scheme, period: str, unit: str, counters: Counters,
                  external: dict[str, float]) -> Scorecard:
        """`score_unit`, computed again only when the unit's counters or inputs differ from
        those of the card kept (scoring is pure: equal inputs, equal card)."""
        kept = self.cards.get((scheme.key, period))
        if kept is None:
            if len(self.cards) >= _MAX_CARD_PERIODS:
                self.cards.clear()  # past periods no longer ranked: start afresh
            kept = self.cards[(scheme.key, period)] = {}
        found = kept.get(unit)
        if found is not None and found[0] == counters and found[1] == external:
            return found[2]
        card = score_unit(scheme, counters, external)
        kept[unit] = (Counters(counters), dict(external), card)
        return card

    def begin(self, repo: ScoringRepository) -> None:
        """Read, in three queries, what a ranking transaction checks its entries against;
        called at the start of each. It holds the lock of its kind of period, so nothing else
        publishes the rankings it reads; the two passes share this cache, and whichever read
        last, what is read is the database's committed state."""
        self.versions, self.changes, self.closed_keys = repo.pass_state()

    def last_snapshot(self, repo: ScoringRepository, key: Key) -> Snapshot | None:
        version = self.versions.get(key)
        cached = self.last.get(key)
        if version is None or (cached is not None and cached[0] == version):
            return None if version is None else cached
        self.last[key] = repo.last_snapshot(*key)
        return self.last[key]

    def published(self, key: Key, version: int, entries: list[dict[str, Any]]) -> None:
        self.last[key] = (version, entries)
        self.versions[key] = version


class LevelInputs:
    """Counters and external inputs of every unit of one level for one period, read once and
    scored with every scheme. With a cache, a quarter or a year is summed from its months'
    counters, each read once and kept while its change count stands: a pass that ranks the
    month, the quarter and the year reads the current month once and the others not at all."""

    def __init__(self, repo: ScoringRepository, ctx: ScoringContext, level: str,
                 period: str, cache: RankingCache | None = None) -> None:
        self.units = units_of(ctx, level, period)
        buckets = buckets_of(period, ctx.today)
        if cache is None or period == ROLLING_30:
            self.counters: dict[str, Counters] = repo.counters(self.units, buckets)
        else:
            months = [cache.month(repo, level, m, self.units) for m in buckets]
            self.counters = {u: Counters.summed(m.get(u, {}) for m in months)
                             for u in self.units}
        self.external = repo.external(self.units, external_period(period, ctx.today))
        self.period, self.cache = period, cache

    def scorecards(self, scheme: Scheme) -> dict[str, Scorecard]:
        if self.cache is not None:
            card = self.cache.scorecard
            return {u: card(scheme, self.period, u, self.counters[u], self.external[u])
                    for u in self.units}
        return {u: score_unit(scheme, self.counters[u], self.external[u]) for u in self.units}


def _ranks(entries: Sequence[Mapping[str, Any]]) -> dict[str, int | None]:
    return {e["unit_code"]: e.get("rank") for e in entries}


def _previous_period_ranks(repo: ScoringRepository, ctx: ScoringContext, scheme: Scheme,
                           level: str, period: str,
                           cache: RankingCache | None = None) -> dict[str, int | None]:
    """The previous period's ranks: its frozen snapshot when closed, else computed (or taken
    from the cache while the period's change counter has not moved)."""
    if period == ROLLING_30:
        return {}
    before = previous_period(period)
    key = (scheme.key, level, before)
    if cache is None:
        closed = repo.closed(*key)
        if closed is not None:
            return _ranks(closed)
    elif key in cache.closed_keys:
        if key not in cache.closed:
            cache.closed[key] = _ranks(repo.closed(*key) or [])
        return cache.closed[key]
    marker = cache.changes.get((level, before), 0) if cache is not None else 0
    if cache is not None and key in cache.previous and cache.previous[key][0] == marker:
        return cache.previous[key][1]
    cards = LevelInputs(repo, ctx, level, before, cache).scorecards(scheme)
    ranks = {e.unit_code: e.rank for e in rank((u, c.score_100) for u, c in cards.items())}
    if cache is not None:
        cache.previous[key] = (marker, ranks)
    return ranks


_UNREAD: Any = object()


def compute_ranking(repo: ScoringRepository, ctx: ScoringContext, scheme: Scheme, level: str,
                    period: str, inputs: LevelInputs | None = None,
                    last: Snapshot | None = _UNREAD,
                    cache: RankingCache | None = None) -> list[RankingEntry]:
    """The ranking of one level for one period now, with rank changes against the last
    published snapshot (`last`, read when not given) and against the previous period."""
    inputs = inputs or LevelInputs(repo, ctx, level, period, cache)
    cards = inputs.scorecards(scheme)
    ranked = rank(((u, c.score_100) for u, c in cards.items()), scheme.bands)
    if last is _UNREAD:
        last = repo.last_snapshot(scheme.key, level, period)
    before = _ranks(last[1]) if last else {}
    period_ranks = _previous_period_ranks(repo, ctx, scheme, level, period, cache)
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
                       cache: RankingCache | None = None) -> RankingChanged | None:
    """Store and emit (through the outbox) a new snapshot when the ranking moved."""
    repo = uow.scores
    key = (scheme.key, level, period)
    last = cache.last_snapshot(repo, key) if cache is not None else repo.last_snapshot(*key)
    entries = compute_ranking(repo, ctx, scheme, level, period, inputs, last, cache)
    dumped = [e.model_dump(mode="json") for e in entries]
    unchanged = _core(last[1]) == _core(dumped) if last is not None else not dumped
    if unchanged:  # an empty level (no unit existed in the period) is never published
        return None
    version = 1 if last is None else last[0] + 1
    repo.add_snapshot(scheme.key, level, period, version, dumped, now)
    if cache is not None:
        cache.published(key, version, dumped)
    event = RankingChanged(scheme=scheme.key, level=level, period=period, as_of=ctx.today,
                           version=version, entries=entries)
    uow.emit(event)
    return event
