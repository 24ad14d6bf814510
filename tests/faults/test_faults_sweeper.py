"""The sweeper in two replicas at once, one of them killed mid-run (its claimed rows locked,
nothing committed) and restarted: one announcement and one alert per dossier and threshold."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import eventlet
from nameko import config
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import select

from services.common.calendar_data import load_calendar
from services.common.db import make_engine, session_factory
from services.common.entrypoints import InboundMessage, configured_timer
from services.common.migrate import upgrade
from services.common.reference import load_province
from services.common.tables import OutboxMessage
from services.dossiers import handlers
from services.dossiers.adapters.uow import DossiersUnitOfWork
from services.dossiers.service import DossiersService
from services.dossiers.views import Context
from services.notifications.service import NotificationsService
from tests.faults.conftest import PrivatePostgres
from tests.support.services import running, service_config, wait_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SWEEP_AT = "2026-10-16T09:00:00+07:00"
STALLED = {"claimed": 0}


class StallingUnitOfWork(DossiersUnitOfWork):
    def commit(self) -> None:
        if self.events:  # announcements made, rows locked: stall until killed
            STALLED["claimed"] = len(self.events)
            eventlet.sleep(3600)
        super().commit()


class StallingSweeper(DossiersService):
    @configured_timer("SWEEP_INTERVAL", 30.0, eager=True)
    def sweep(self) -> int:
        return handlers.sweep(StallingUnitOfWork(self.db.sessions), self._ctx())


def seed(url: str) -> tuple[list[str], list[str]]:
    """Dossiers accepted on 1 Oct (overdue by the sweep time) and 5 Oct (due soon)."""
    upgrade("dossiers", url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    groups: tuple[list[str], list[str]] = ([], [])
    for group, day in ((0, 1), (1, 5)):
        at = datetime(2026, 10, day, 8, tzinfo=VN)
        ctx = Context(province=load_province("demo"), calendar=load_calendar(), now=at)
        for i in range(25):
            code = f"H99.01-2610{day:02d}-{i:04d}"
            body = {"dossier_code": code, "status": 2, "status_at": at.isoformat(),
                    "unit_code": "H99.01", "procedure_code": "1.005342"}
            handlers.handle_inbound(DossiersUnitOfWork(sessions), InboundMessage(
                body=json.dumps(body).encode(), message_id=f"seed-{code}",
                message_type="parpulse.dossier.v1", routing_key="seed"), ctx)
            groups[group].append(code)
    engine.dispose()
    return groups


def announcements(url: str) -> Counter[tuple[str, str]]:
    engine = make_engine(url, pool_size=1)
    with session_factory(engine)() as s:
        rows = [(r.message_type, json.loads(r.body)["dossier"]["dossier_code"])
                for r in s.scalars(select(OutboxMessage).where(OutboxMessage.message_type.in_(
                    ["dossier.due_soon", "dossier.overdue"])))]
    engine.dispose()
    return Counter(rows)


def test_concurrent_and_restarted_sweepers_alert_once(
        vhost: str, private_pg: PrivatePostgres, tmp_path: Path) -> None:
    d_url = private_pg.create_database()
    overdue, due_soon = seed(d_url)
    cfg = service_config(vhost, d_url, CLOCK_START=SWEEP_AT, SWEEP_INTERVAL=0.3)
    notif = service_config(vhost, f"sqlite:///{tmp_path}/n.db", DELIVERY_INTERVAL=3600,
                           CLOCK_START=SWEEP_AT)
    STALLED["claimed"] = 0
    with running(NotificationsService, notif, migrate="notifications"):
        with config.patch(cfg, clear=False):
            stalling = ServiceContainer(StallingSweeper)
            stalling.start()
        wait_for(lambda: STALLED["claimed"] == 50, what="a sweep holding every dossier")
        with running(DossiersService, cfg):
            # The other replica sweeps meanwhile and finds every row locked: nothing to do.
            time.sleep(1.0)
            assert not announcements(d_url)
            stalling.kill()  # mid-run, before its commit: the claims roll back
            # The killed replica restarted: two sweepers at once.
            with running(DossiersService, cfg), ClusterRpcClient(uri=vhost) as rpc:
                def alerts(kind: str) -> list[dict[str, object]]:
                    found: list[dict[str, object]] = rpc.notifications.list_alerts(
                        kind=kind, limit=500)
                    return found

                wait_for(lambda: len(alerts("due_soon")) >= 25
                         and len(alerts("overdue")) >= 25, timeout=60, what="the alerts")
                time.sleep(1.0)  # a few more sweeps by both replicas
                due_soon_alerts, overdue_alerts = alerts("due_soon"), alerts("overdue")
    counted = announcements(d_url)
    assert counted == Counter({("dossier.overdue", c): 1 for c in overdue}
                              | {("dossier.due_soon", c): 1 for c in due_soon})
    assert sorted(a["dossier_code"] for a in due_soon_alerts) == sorted(due_soon)
    assert sorted(a["dossier_code"] for a in overdue_alerts) == sorted(overdue)
