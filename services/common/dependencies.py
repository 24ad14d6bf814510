"""nameko DependencyProviders of the kit: the database (unit of work + outbox relay) and the clock.

All I/O of a service goes through these; each returns a small wrapper, not the raw resource.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import eventlet
from eventlet.event import Event as GreenEvent
from kombu import Connection
from kombu.common import maybe_declare
from nameko import config
from nameko.extensions import DependencyProvider
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from .calendar_data import load_calendar, working_hours_from_config
from .clock import Clock
from .db import make_engine, session_factory
from .outbox import OutboxRelay
from .publisher import ConfirmingPublisher
from .reference import Province, load_province
from .topology import base_entities
from .uow import UnitOfWork
from .workcalendar import WorkingCalendar

DATA_ROOT = Path(__file__).resolve().parents[2] / "data"

log = logging.getLogger(__name__)


class Database:
    """What a worker sees: a unit-of-work factory and a readiness check."""

    def __init__(self, sessions: sessionmaker[Session], engine: Engine,
                 wake_relay: Callable[[], None], headers: dict[str, str],
                 uow_cls: type[UnitOfWork] = UnitOfWork) -> None:
        self.sessions = sessions
        self.engine = engine
        self._wake_relay = wake_relay
        self._headers = headers
        self._uow_cls = uow_cls

    def uow(self) -> Any:
        return self._uow_cls(self.sessions, on_commit=self._wake_relay, headers=self._headers)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False


class TransactionalStore(DependencyProvider):
    """The service's database plus its outbox relay, which runs in every replica."""

    def __init__(self, service: str, uow_cls: type[UnitOfWork] = UnitOfWork,
                 relay_interval: float = 0.5, relay: bool = True) -> None:
        self.service = service
        self.uow_cls = uow_cls
        self.relay_interval = relay_interval
        self.relay_enabled = relay
        self._stopped = False
        self._dirty = False
        self._wake: GreenEvent | None = None

    def setup(self) -> None:
        url = config.get("DATABASE_URL") or "sqlite:///var/parpulse.db"
        pool = int(config.get("max_workers", 10)) + 2
        self.engine = make_engine(url, pool_size=pool)
        self.sessions = session_factory(self.engine)
        uri = config["AMQP_URI"]
        with Connection(uri) as conn:
            channel = conn.channel()
            for entity in base_entities():
                maybe_declare(entity, channel)
        self.publisher = ConfirmingPublisher(uri)
        self.relay = OutboxRelay(self.sessions, self.publisher, self.service)

    def start(self) -> None:
        self._stopped = False
        self._wake = GreenEvent()
        if self.relay_enabled:
            self.container.spawn_managed_thread(self._run_relay, identifier="outbox-relay")

    def stop(self) -> None:
        self._stopped = True
        self.wake()

    def kill(self) -> None:
        self.stop()

    def wake(self) -> None:
        self._dirty = True
        if self._wake is not None and not self._wake.ready():
            self._wake.send(True)

    def _run_relay(self) -> None:
        last_observed = last_purged = 0.0
        while not self._stopped:
            self._dirty = False
            try:
                published = self.relay.relay_once()
                if time.monotonic() - last_observed > 1.0:
                    self.relay.observe_backlog()
                    last_observed = time.monotonic()
                if time.monotonic() - last_purged > 600.0:
                    self.relay.purge_sent()
                    last_purged = time.monotonic()
            except Exception:
                log.exception("outbox relay pass failed")
                published = 0
                eventlet.sleep(1.0)
            # Green threads switch only on I/O, so a commit cannot slip in between the check
            # of _dirty and the wait. A short batch means nothing else was pending: wait for
            # the next commit instead of a pass that would find nothing.
            if published < self.relay.batch_size and not self._dirty and not self._stopped:
                self._wake = GreenEvent()
                with eventlet.Timeout(self.relay_interval, False):
                    self._wake.wait()
        self.publisher.close()

    def get_dependency(self, worker_ctx: Any) -> Database:
        correlation = worker_ctx.context_data.get("correlation_id") or worker_ctx.call_id
        return Database(self.sessions, self.engine, self.wake,
                        {"correlation_id": str(correlation)}, self.uow_cls)


class ServiceClock(DependencyProvider):
    """The service's notion of now (compressed in demos)."""

    def setup(self) -> None:
        self.clock = Clock.from_config(config.get("CLOCK_START"), config.get("CLOCK_SPEED"))

    def get_dependency(self, worker_ctx: Any) -> Callable[[], datetime]:
        return self.clock.now


@dataclass(frozen=True)
class ProvinceContext:
    province: Province
    calendar: WorkingCalendar


def load_province_context(code: str, data_dir: str | Path | None = None) -> ProvinceContext:
    root = Path(data_dir) if data_dir else DATA_ROOT
    province = load_province(code, root / "provinces")
    hours = working_hours_from_config(province.working_hours) if province.working_hours \
        else None
    return ProvinceContext(province, load_calendar(root / "calendars", hours=hours))


class ProvinceData(DependencyProvider):
    """The province's reference data and working calendar, loaded once at start."""

    def setup(self) -> None:
        self.context = load_province_context(config.get("PROVINCE") or "demo",
                                             config.get("DATA_DIR"))

    def get_dependency(self, worker_ctx: Any) -> ProvinceContext:
        return self.context
