"""Events into the read model and the stream log; the live counters. One unit of work each."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from services.common.batch import first_seen
from services.common.entrypoints import InboundMessage
from services.contracts import dossiers as ev
from services.contracts.base import EVENT_TYPES, Event, decode_event
from services.contracts.notifications import AlertRaised, AlertUpdated
from services.contracts.scoring import RankingChanged

from .adapters.repository import GatewayRepository
from .adapters.uow import GatewayUnitOfWork

log = logging.getLogger(__name__)

CONSUMER = "gateway.events"
# Vietnam has no daylight saving: "today" and "this month" are local to UTC+7.
VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
ON_TIME = ("early", "on_time")


def handle_event(uow: GatewayUnitOfWork, message: InboundMessage, now: datetime) -> str:
    """Apply one event once. Returns the outcome for metrics; "streamed" when the stream log
    grew (the caller wakes the SSE streams)."""
    return handle_events(uow, [message], now)[0]


def handle_events(uow: GatewayUnitOfWork, messages: Sequence[InboundMessage],
                  now: datetime) -> list[str]:
    """Apply a batch of events in one transaction, each once. Outcomes as `handle_event`'s."""
    outcomes = ["ignored"] * len(messages)
    decoded: list[tuple[int, Event, str]] = []
    for i, message in enumerate(messages):
        event_type = message.message_type or message.routing_key
        if event_type not in EVENT_TYPES:
            continue
        # A malformed body raises: the queue retries it, then parks it in the DLQ.
        event = decode_event(event_type, message.body)
        decoded.append((i, event, message.message_id or str(event.event_id)))
    if not decoded:
        return outcomes
    with uow:
        ids = [message_id for *_, message_id in decoded]
        claimed = uow.claim_messages(CONSUMER, ids)
        snapshots = []
        for (i, event, message_id), first in zip(decoded, first_seen(ids), strict=True):
            if not (first and message_id in claimed):
                outcomes[i] = "duplicate"
            elif isinstance(event, ev.DossierEvent):
                snapshots.append(event.dossier)
                outcomes[i] = "processed"
            else:
                outcomes[i] = "streamed" if apply_event(uow.views, event, now) else "processed"
        if snapshots:
            uow.views.put_dossiers(snapshots)
            # Coalesced: the KPI timer publishes at most one kpi event per interval.
            uow.views.mark_kpi_dirty(now)
        uow.commit()
    return outcomes


def apply_event(repo: GatewayRepository, event: Event, now: datetime) -> bool:
    if isinstance(event, RankingChanged):
        body = event.model_dump(mode="json")
        if repo.put_ranking(body, now):
            repo.append_stream("ranking", body, now)
            return True
        return False
    if isinstance(event, AlertRaised | AlertUpdated):
        repo.append_stream("alert", {"type": event.TYPE,
                                     "alert": event.alert.model_dump(mode="json")}, now)
        return True
    if isinstance(event, ev.DossierEvent) and repo.put_dossier(event.dossier):
        repo.mark_kpi_dirty(now)
    return False


def emit_kpis(uow: GatewayUnitOfWork, now: datetime, logged_at: datetime) -> bool:
    """Append a kpi stream event if dossier events arrived since the last one (one replica
    wins the claim). `now` is the service clock's; `logged_at` the real time, for pruning."""
    with uow:
        marks, published = uow.views.kpi_marks()
        if marks == published:
            return False
        # Computed before the claim, with nothing locked: what changes meanwhile raises the
        # count past `marks`, and the next pass publishes it.
        figures = kpis(uow.views, now)
        if not uow.views.claim_kpi_publication(marks, logged_at):
            return False
        uow.views.append_stream("kpi", figures, logged_at)
        uow.commit()
    return True


def prune_stream(uow: GatewayUnitOfWork, now: datetime, keep: int, max_age_s: float) -> int:
    with uow:
        removed = uow.views.prune_stream(keep, timedelta(seconds=max_age_s), now)
        uow.commit()
    return removed


def read_kpis(uow: GatewayUnitOfWork, now: datetime) -> dict[str, Any]:
    with uow:
        return kpis(uow.views, now)


def kpis(repo: GatewayRepository, now: datetime) -> dict[str, Any]:
    local = now.astimezone(VN_TZ)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    outcomes = repo.closed_outcomes(month.astimezone(UTC), next_month.astimezone(UTC))
    # Dossiers refused at intake close without an outcome: they were never handled, so they
    # are neither on time nor late.
    closed = sum(n for o, n in outcomes.items() if o is not None)
    on_time = sum(n for o, n in outcomes.items() if o in ON_TIME)
    states = repo.open_states()
    return {
        "as_of": now.astimezone(UTC).isoformat(),
        "received_today": repo.count_accepted(day.astimezone(UTC),
                                              (day + timedelta(days=1)).astimezone(UTC)),
        "on_time_rate": round(on_time / closed, 4) if closed else None,
        "open_overdue": states.get("overdue", 0),
        "due_soon": states.get("due_soon", 0),
        "open_total": sum(states.values()),
    }


def stored_ranking(uow: GatewayUnitOfWork, scheme: str, level: str,
                   period: str) -> dict[str, Any] | None:
    with uow:
        row = uow.views.ranking(scheme, level, period)
        return dict(row.body) if row is not None else None


def stream_after(uow: GatewayUnitOfWork, last_id: int,
                 limit: int = 500) -> list[tuple[int, str, dict[str, Any]]]:
    with uow:
        return [(r.id, r.kind, r.data) for r in uow.views.stream_after(last_id, limit)]


def last_stream_id(uow: GatewayUnitOfWork) -> int:
    with uow:
        return uow.views.last_stream_id()
