"""Reliability rules on the real broker and database: retries end in the DLQ, the relay picks up
what a dead process left, the sweeper announces each threshold once."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import eventlet
from kombu import Connection

from services.common.calendar_data import load_calendar
from services.common.db import make_engine, session_factory
from services.common.dependencies import ProvinceData
from services.common.entrypoints import InboundMessage, reliable_consume
from services.common.migrate import upgrade
from services.common.reference import load_province
from services.common.tables import OutboxMessage
from services.common.topology import inbound_exchange
from services.dossiers import handlers
from services.dossiers.adapters.uow import DossiersUnitOfWork
from services.dossiers.service import INBOUND_QUEUE, DossiersService
from services.dossiers.views import Context
from tests.dossiers.service.conftest import Inbound, native
from tests.support import broker
from tests.support.services import EventTap, running, service_config, wait_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class FlakyDossiers(DossiersService):
    """The real service, except that any message mentioning "poison" makes the handler fail."""

    @reliable_consume(INBOUND_QUEUE, inbound_exchange, ["#"], service="dossiers")
    def on_inbound(self, messages: list[InboundMessage]) -> list[str]:
        if any(b"poison" in m.body for m in messages):
            raise RuntimeError("handler failure injected by the test")
        return DossiersService.on_inbound(self, messages)


def test_failing_handler_is_retried_to_the_limit_then_dead_lettered(vhost, database_url):
    cfg = service_config(vhost, database_url, DELIVERY_LIMIT=2,
                         CLOCK_START="2026-10-06T08:00:00+07:00")
    tap = EventTap(vhost)
    with running(FlakyDossiers, cfg, migrate="dossiers"):
        inbound = Inbound(vhost)
        poison_id = inbound.send(native("H99.01-POISON", 2, datetime(2026, 10, 5, 8, tzinfo=VN),
                                        holder_name="poison"))
        inbound.send(native("H99.01-261005-0100", 2, datetime(2026, 10, 5, 8, tzinfo=VN)))
        wait_for(lambda: tap.of_type("dossier.accepted"), what="the healthy message")
        wait_for(lambda: broker.queue_info(vhost, f"{INBOUND_QUEUE}.dlq").get("messages") == 1,
                 what="the poison message in the DLQ")
    parked = broker.get_messages(vhost, f"{INBOUND_QUEUE}.dlq")
    assert len(parked) == 1
    assert parked[0]["properties"]["message_id"] == poison_id
    death = parked[0]["properties"]["headers"]["x-death"][0]
    assert death["reason"] == "delivery_limit"
    # Delivered once plus DELIVERY_LIMIT redeliveries, then parked; the inbound queue is empty.
    assert broker.queue_info(vhost, INBOUND_QUEUE)["messages"] == 0
    codes = [e["dossier"]["dossier_code"] for e in tap.drain() if "dossier" in e]
    assert "H99.01-POISON" not in codes
    tap.close()


def _context(now: datetime) -> Context:
    return Context(province=load_province("demo"), calendar=load_calendar(), now=now)


def test_relay_publishes_rows_left_pending_by_a_killed_process(vhost, database_url):
    upgrade("dossiers", database_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    # A process that committed its transaction and died before its relay ran: the rows are in
    # the outbox, nothing was published.
    ctx = _context(datetime(2026, 10, 6, 8, tzinfo=VN))
    body = json.dumps(native("H99.01-261005-0200", 2, datetime(2026, 10, 5, 8, tzinfo=VN)))
    message = InboundMessage(body=body.encode(), message_id="m-1",
                             message_type="parpulse.dossier.v1", routing_key="x")
    assert handlers.handle_inbound(DossiersUnitOfWork(sessions), message, ctx) == "processed"
    with sessions() as s:
        pending = s.query(OutboxMessage).filter(OutboxMessage.sent_at.is_(None)).count()
    assert pending == 2  # accepted + status changed
    tap = EventTap(vhost)
    cfg = service_config(vhost, database_url, CLOCK_START="2026-10-06T08:00:00+07:00")
    with running(DossiersService, cfg):
        events = wait_for(lambda: len(tap.drain()) >= 2 and tap.events, what="relayed events")
        wait_for(lambda: _pending(sessions) == 0, what="rows marked sent")
    assert sorted(e["_type"] for e in events) == ["dossier.accepted", "dossier.status_changed"]
    tap.close()
    engine.dispose()


def _pending(sessions) -> int:
    with sessions() as s:
        return s.query(OutboxMessage).filter(OutboxMessage.sent_at.is_(None)).count()


def test_sweeper_announces_each_threshold_once_across_concurrent_runs(database_url):
    upgrade("dossiers", database_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    accepted = datetime(2026, 10, 5, 8, tzinfo=VN)
    ctx = _context(accepted)
    for i in range(20):
        body = json.dumps(native(f"H99.01-261005-03{i:02d}", 2, accepted))
        handlers.handle_inbound(DossiersUnitOfWork(sessions), InboundMessage(
            body=body.encode(), message_id=f"s-{i}", message_type="parpulse.dossier.v1",
            routing_key="x"), ctx)
    # Ten working days later the dossiers are due within the day: due soon, not yet overdue.
    due_soon = _context(datetime(2026, 10, 16, 9, tzinfo=VN))
    runs = [eventlet.spawn(handlers.sweep, DossiersUnitOfWork(sessions), due_soon, 7)
            for _ in range(4)]
    first = sum(r.wait() for r in runs)
    again = handlers.sweep(DossiersUnitOfWork(sessions), due_soon)
    overdue = _context(datetime(2026, 10, 20, 9, tzinfo=VN))
    later = [handlers.sweep(DossiersUnitOfWork(sessions), overdue) for _ in range(3)]
    with sessions() as s:
        kinds = [r.message_type for r in s.query(OutboxMessage)]
    assert first == 20 and again == 0
    assert later == [20, 0, 0]
    assert kinds.count("dossier.due_soon") == 20
    assert kinds.count("dossier.overdue") == 20
    engine.dispose()


def test_reinjected_message_is_applied_after_the_fix(vhost, database_url):
    cfg = service_config(vhost, database_url, CLOCK_START="2026-10-06T08:00:00+07:00")
    tap = EventTap(vhost)
    with running(DossiersService, cfg, migrate="dossiers"):
        inbound = Inbound(vhost)
        bad = native("H99.01-261005-0400", 2, datetime(2026, 10, 5, 8, tzinfo=VN),
                     procedure_code="9.999999")
        inbound.send(bad)
        wait_for(lambda: tap.of_type("inbound.quarantined"), what="quarantine")
        from nameko.standalone.rpc import ClusterRpcClient

        with ClusterRpcClient(uri=vhost) as rpc:
            item = rpc.dossiers.list_quarantined()["items"][0]
            assert item["reason_code"] == "unknown_procedure"
            fixed = json.dumps({**bad, "procedure_code": "1.005342"})
            result = rpc.dossiers.reinject(item["id"], fixed)
            assert result["state"] == "reinjected"
            wait_for(lambda: tap.of_type("dossier.accepted"), what="the re-injected dossier")
            assert rpc.dossiers.list_quarantined()["total"] == 0
            detail = rpc.dossiers.get_dossier("H99.01-261005-0400")
    assert detail["dossier"]["procedure_code"] == "1.005342"
    tap.close()


def test_province_data_loads_for_the_service():
    # The provider the service uses at start: demo province and a calendar covering 2024-2027.
    provider = ProvinceData()
    from nameko import config

    with config.patch({"PROVINCE": "demo"}, clear=False):
        provider.setup()
    assert provider.context.province.code == "demo"
    assert provider.context.calendar.is_working_day(datetime(2026, 10, 5).date())
    assert Connection  # kombu imported for the broker-backed tests above
