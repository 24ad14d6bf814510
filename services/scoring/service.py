"""The scoring service: entrypoints only (validate, call the handler, serialise)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.rpc import rpc

from services.common.entrypoints import InboundMessage, configured_timer, reliable_consume
from services.common.topology import events_exchange
from services.common.web import Observable
from services.contracts.scoring import ExternalInputSubmitted

from . import handlers, queries
from .context import ScoringContext
from .dependencies import ProvinceData, RankingMemo, Schemes, ServiceClock, store
from .domain.periods import local_date
from .metrics import RANKING_PASS_SECONDS
from .rankings import DEFAULT_RANKING_INTERVAL, DEFAULT_RANKING_LONG_INTERVAL

EVENTS_QUEUE = "scoring.dossier-events"


class ScoringService(Observable):
    name = "scoring"

    db = store()
    clock = ServiceClock()
    province = ProvinceData()
    schemes = Schemes()
    ranking_cache = RankingMemo()

    def _ctx(self) -> ScoringContext:
        return ScoringContext(self.province.province, self.schemes, local_date(self.clock()))

    @reliable_consume(EVENTS_QUEUE, events_exchange, ["dossier.#"], service="scoring")
    def on_dossier_events(self, messages: list[InboundMessage]) -> list[str]:
        return handlers.handle_dossier_events(self.db.uow(), messages, self._ctx())

    # Two passes, so that the month, which the dashboard opens on, is never held up by the
    # quarter, the year and rolling-30 (which one dossier moves by a small share).
    @configured_timer("RANKING_INTERVAL", DEFAULT_RANKING_INTERVAL, eager=True)
    def rank(self) -> int:
        return self._rank("month", lambda live: live[:1])

    @configured_timer("RANKING_LONG_INTERVAL", DEFAULT_RANKING_LONG_INTERVAL, eager=True)
    def rank_longer_periods(self) -> int:
        return self._rank("longer", lambda live: live[1:])

    def _rank(self, name: str, periods: Callable[[tuple[str, ...]], tuple[str, ...]]) -> int:
        ctx = self._ctx()
        with RANKING_PASS_SECONDS.labels(name).time():
            return handlers.rank_dirty(self.db.uow(), ctx, self.clock(), cache=self.ranking_cache,
                                       periods=periods(ctx.live_periods()))

    @rpc
    def get_ranking(self, scheme: str, level: str, period: str) -> dict[str, Any]:
        ranking = queries.get_ranking(self.db.uow(), self._ctx(), scheme, level, period)
        return ranking.model_dump(mode="json")

    @rpc
    def get_scorecard(self, scheme: str, unit_code: str, period: str, limit: int = 50,
                      offset: int = 0) -> dict[str, Any]:
        card = queries.get_scorecard(self.db.uow(), self._ctx(), scheme, unit_code, period,
                                     min(limit, 500), offset)
        return card.model_dump(mode="json")

    @rpc
    def get_unit_history(self, scheme: str, unit_code: str) -> dict[str, Any]:
        history = queries.get_unit_history(self.db.uow(), self._ctx(), scheme, unit_code)
        return history.model_dump(mode="json")

    @rpc
    def submit_external_input(self, unit_code: str, period: str,
                              values: dict[str, float]) -> dict[str, Any]:
        command = ExternalInputSubmitted(unit_code=unit_code, period=period, values=values)
        handlers.submit_external_input(self.db.uow(), command, self._ctx(), self.clock())
        return {"accepted": True}

    @rpc
    def close_period(self, period: str) -> list[dict[str, Any]]:
        closed = queries.close_period(self.db.uow(), self._ctx(), period, self.clock())
        return [r.model_dump(mode="json") for r in closed]
