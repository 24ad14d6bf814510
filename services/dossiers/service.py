"""The dossiers service: entrypoints only (validate, call the handler, serialise)."""

from __future__ import annotations

from typing import Any

from nameko import config
from nameko.rpc import rpc

from services.common.entrypoints import InboundMessage, configured_timer, reliable_consume
from services.common.topology import inbound_exchange
from services.common.web import Observable

from . import handlers, quarantine
from .dependencies import ProvinceData, ServiceClock, store
from .views import Context

INBOUND_QUEUE = "dossiers.inbound"


class DossiersService(Observable):
    name = "dossiers"

    db = store()
    clock = ServiceClock()
    province = ProvinceData()

    def _ctx(self) -> Context:
        return Context(
            province=self.province.province,
            calendar=self.province.calendar,
            now=self.clock(),
            due_soon_minutes=int(config.get("DUE_SOON_MINUTES", 480)),
        )

    @reliable_consume(INBOUND_QUEUE, inbound_exchange, ["#"], service="dossiers")
    def on_inbound(self, messages: list[InboundMessage]) -> list[str]:
        return handlers.handle_inbound_batch(self.db.uow(), messages, self._ctx())

    @configured_timer("SWEEP_INTERVAL", 30.0, eager=True)
    def sweep(self) -> int:
        return handlers.sweep(self.db.uow(), self._ctx())

    @rpc
    def get_dossier(self, code: str) -> dict[str, Any] | None:
        detail = handlers.get_dossier(self.db.uow(), code, self._ctx())
        return detail.model_dump(mode="json") if detail else None

    @rpc
    def list_dossiers(self, state: str, unit_code: str | None = None, limit: int = 50,
                      offset: int = 0) -> list[dict[str, Any]]:
        found = handlers.list_by_state(self.db.uow(), unit_code, state, min(limit, 500),
                                       offset, self._ctx())
        return [s.model_dump(mode="json") for s in found]

    @rpc
    def list_quarantined(self, state: str = "open", limit: int = 50,
                         offset: int = 0) -> dict[str, Any]:
        items, total = quarantine.list_items(self.db.uow(), state, min(limit, 500), offset)
        return {"total": total, "limit": limit, "offset": offset,
                "items": [i.model_dump(mode="json") for i in items]}

    @rpc
    def reinject(self, quarantine_id: int, payload: str | None = None) -> dict[str, Any]:
        return quarantine.reinject(self.db.uow(), quarantine_id, payload).model_dump(mode="json")
