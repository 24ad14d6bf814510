"""Events, commands and RPC payloads of the scoring service."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime

from .base import Contract, Event, register

ROLLING_30 = "rolling-30"  # the live 30-day window ending on the service's today


class GroupPoints(Contract):
    key: str
    points: float
    max_points: float
    measured_max: float


class RankingEntry(Contract):
    unit_code: str
    rank: int | None  # None: nothing measured, listed last
    previous_rank: int | None = None  # in the previous published snapshot
    change: int | None = None  # previous_rank - rank: positive = moved up
    previous_period_rank: int | None = None  # in the previous period (closed snapshot if any)
    period_change: int | None = None
    score_100: float | None = None
    total: float = 0.0
    measured_max: float = 0.0
    band: str | None = None
    groups: list[GroupPoints] = []


@register
class RankingChanged(Event):
    """A ranking moved. Coalesced: at most about one per (scheme, level, period) per ranking
    interval; `version` grows by one per publication of that (scheme, level, period)."""

    TYPE = "scoring.ranking_changed"
    scheme: str
    level: str
    period: str  # "2026-11", "2026-Q4", "2026" or "rolling-30"
    as_of: date  # the local date the live ranking was computed for
    version: int
    entries: list[RankingEntry]


class Ranking(Contract):
    """get_ranking / close_period answer."""

    scheme: str
    level: str
    period: str
    as_of: date
    version: int | None = None  # of the last published snapshot, when the answer is one
    closed: bool = False
    entries: list[RankingEntry]


class ScorecardLine(Contract):
    key: str
    group: str
    source: str
    max_points: float
    target: float | None = None
    numerator: int | None = None
    denominator: int | None = None
    rate: float | None = None
    points: float | None = None
    measured: bool
    reason: str | None = None  # why not measured
    submitted: float | None = None  # external value as submitted
    deductions: dict[str, float] = {}


class CostlyDossier(Contract):
    """A dossier in an indicator's denominator but not its numerator (or in the numerator of
    a complement indicator): it cost the unit points."""

    dossier_code: str
    version: int
    indicators: list[str]


class Scorecard(Contract):
    scheme: str
    unit_code: str
    period: str
    as_of: date
    lines: list[ScorecardLine]
    groups: list[GroupPoints]
    total: float
    max_points: float
    measured_max: float
    score_100: float | None = None
    band: str | None = None
    not_measured: list[str] = []
    costly_total: int = 0
    costly: list[CostlyDossier] = []  # one page: limit/offset of the request
    limit: int = 50
    offset: int = 0


class UnitHistoryEntry(Contract):
    """A unit's place in one closed period: "up 5 places since last year" is `period_change`
    of the year's entry."""

    period: str
    level: str
    entry: RankingEntry


class UnitHistory(Contract):
    scheme: str
    unit_code: str
    periods: list[UnitHistoryEntry]


class ExternalInputSubmitted(Contract):
    """Command: values from outside the dossier stream for one unit and period
    (e.g. {"procedures_published": 0.95}); rates are 0..1, points 0..max_points."""

    unit_code: str
    period: str
    values: dict[str, float]
    submitted_at: AwareDatetime | None = None
