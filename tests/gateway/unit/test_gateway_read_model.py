"""The read model on SQLite: version guards, KPI coalescing, the stream log's order and bound,
and idempotent event handling."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.common.db import make_engine, session_factory
from services.common.entrypoints import InboundMessage
from services.common.migrate import upgrade
from services.contracts.base import Event
from services.contracts.dossiers import (
    DossierCompleted,
    DossierSnapshot,
    DossierStatusChanged,
    Outcome,
    Status,
)
from services.gateway import handlers
from services.gateway.adapters.uow import GatewayUnitOfWork
from tests.gateway.support_gateway import accepted, alert, ranking

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 10, 6, 8, tzinfo=VN)


@pytest.fixture
def uow(tmp_path: Path) -> GatewayUnitOfWork:
    url = f"sqlite:///{tmp_path}/gw.db"
    upgrade("gateway", url)
    return GatewayUnitOfWork(session_factory(make_engine(url)))


def deliver(uow: GatewayUnitOfWork, event: Event, message_id: str | None = None) -> str:
    message = InboundMessage(body=event.model_dump_json().encode(),
                             message_id=message_id or str(event.event_id),
                             message_type=event.TYPE, routing_key=event.TYPE)
    return handlers.handle_event(uow, message, NOW)


def completed(code: str, version: int, outcome: Outcome) -> DossierCompleted:
    snap = DossierSnapshot(dossier_code=code, version=version, unit_code="H99.01",
                           procedure_code="1.005342", status=Status.DECIDED,
                           accepted_at=NOW - timedelta(days=3), completed_at=NOW,
                           outcome=outcome)
    return DossierCompleted(dossier=snap, outcome=outcome)


def test_rankings_keep_the_newest_version_and_stream_only_news(uow: GatewayUnitOfWork) -> None:
    first = ranking(2)
    assert deliver(uow, first) == "streamed"
    assert deliver(uow, first) == "duplicate"
    assert deliver(uow, ranking(1)) == "processed"  # older: stored ranking unchanged
    stored = handlers.stored_ranking(uow, "qd766", "department", "2026-10")
    assert stored is not None and stored["version"] == 2
    assert [k for _, k, _ in handlers.stream_after(uow, 0)] == ["ranking"]


def test_kpis_are_coalesced_and_version_guarded(uow: GatewayUnitOfWork) -> None:
    assert not handlers.emit_kpis(uow, NOW, NOW)
    deliver(uow, accepted("A", version=1))
    deliver(uow, accepted("B", version=1))
    deliver(uow, completed("A", 3, Outcome.ON_TIME))
    deliver(uow, accepted("A", version=2))  # late and older: ignored
    deliver(uow, completed("B", 2, Outcome.LATE))
    assert handlers.emit_kpis(uow, NOW, NOW)
    assert not handlers.emit_kpis(uow, NOW, NOW)  # one kpi event per dirty period
    (kpi,) = [d for _, k, d in handlers.stream_after(uow, 0) if k == "kpi"]
    assert kpi == handlers.read_kpis(uow, NOW)
    assert kpi["on_time_rate"] == 0.5 and kpi["open_total"] == 0
    assert kpi["received_today"] == 0  # accepted three days ago


def test_refused_dossiers_do_not_count_in_the_on_time_rate(uow: GatewayUnitOfWork) -> None:
    refused = DossierSnapshot(dossier_code="R", version=1, unit_code="H99.01",
                              procedure_code="1.005342", status=Status.REFUSED,
                              completed_at=NOW)
    deliver(uow, DossierStatusChanged(dossier=refused, to_status=Status.REFUSED))
    assert handlers.read_kpis(uow, NOW)["on_time_rate"] is None
    deliver(uow, completed("A", 3, Outcome.EARLY))
    assert handlers.read_kpis(uow, NOW)["on_time_rate"] == 1.0


def test_stream_ids_grow_and_the_log_is_bounded(uow: GatewayUnitOfWork) -> None:
    for i in range(5):
        deliver(uow, alert(f"k-{i}"))
    rows = handlers.stream_after(uow, 0)
    ids = [i for i, _, _ in rows]
    assert ids == sorted(ids) and len(ids) == 5
    assert rows[0][2]["alert"]["key"] == "k-0"
    assert [i for i, _, _ in handlers.stream_after(uow, ids[2])] == ids[3:]
    assert handlers.prune_stream(uow, NOW + timedelta(minutes=1), keep=2,
                                  max_age_s=3600) == 3
    assert [i for i, _, _ in handlers.stream_after(uow, 0)] == ids[3:]
    later = NOW + timedelta(days=2)
    assert handlers.prune_stream(uow, later, keep=100, max_age_s=86400) == 2
    assert handlers.stream_after(uow, 0) == [] and handlers.last_stream_id(uow) == 0


def test_unknown_event_types_are_ignored(uow: GatewayUnitOfWork) -> None:
    message = InboundMessage(body=b"{}", message_id="m", message_type="other.thing",
                             routing_key="other.thing")
    assert handlers.handle_event(uow, message, NOW) == "ignored"
