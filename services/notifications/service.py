"""The notifications service: entrypoints only (validate, call the handler, serialise)."""

from __future__ import annotations

from typing import Any

from nameko import config
from nameko.rpc import rpc

from services.common.entrypoints import InboundMessage, configured_timer, reliable_consume
from services.common.topology import (
    CONSUMER_QUEUES,
    DEAD_LETTER_TAP,
    dead_letter_exchange,
    events_exchange,
)
from services.common.web import Observable

from . import delivery, digest, escalation, handlers
from .context import Context
from .dependencies import NotificationChannels, ProvinceData, ServiceClock, store

EVENTS_QUEUE = "notifications.dossier-events"
ROUTING_KEYS = ["dossier.#", "inbound.quarantined"]


class NotificationsService(Observable):
    name = "notifications"

    db = store()
    clock = ServiceClock()
    province = ProvinceData()
    channels = NotificationChannels()

    def _ctx(self) -> Context:
        return Context(province=self.province.province, calendar=self.province.calendar,
                       channels=self.channels, now=self.clock())

    @reliable_consume(EVENTS_QUEUE, events_exchange, ROUTING_KEYS, service="notifications")
    def on_events(self, messages: list[InboundMessage]) -> list[str]:
        return handlers.handle_events(self.db.uow(), messages, self._ctx())

    @reliable_consume(DEAD_LETTER_TAP, dead_letter_exchange, list(CONSUMER_QUEUES),
                      service="notifications")
    def on_dead_letters(self, messages: list[InboundMessage]) -> list[str]:
        return handlers.handle_dead_letters(self.db.uow, messages, self._ctx())

    @configured_timer("DELIVERY_INTERVAL", 2.0, eager=True)
    def deliver(self) -> int:
        return delivery.deliver_pending(self.db.uow(), self._ctx(),
                                        limit=int(config.get("DELIVERY_BATCH", 50)))

    @configured_timer("ESCALATION_INTERVAL", 60.0)
    def escalate(self) -> tuple[int, int]:
        return escalation.escalate_and_remind(self.db.uow(), self._ctx())

    @configured_timer("DIGEST_INTERVAL", 60.0)
    def digest(self) -> int:
        return digest.send_digests(self.db.uow(), self._ctx())

    @rpc
    def list_alerts(self, unit_code: str | None = None, kind: str | None = None,
                    state: str | None = None, limit: int = 50,
                    offset: int = 0) -> list[dict[str, Any]]:
        return handlers.list_alerts(self.db.uow(), unit_code, kind, state,
                                    max(1, min(limit, 500)), max(offset, 0))

    @rpc
    def acknowledge(self, key: str, by: str) -> dict[str, Any]:
        return handlers.acknowledge_alert(self.db.uow(), key, by, self._ctx())

    @rpc
    def get_apology(self, dossier_code: str) -> dict[str, Any] | None:
        return handlers.get_apology(self.db.uow(), dossier_code)
