"""What every fault scenario shares: realistic load, publishing until the broker confirmed it,
and the two checks of the issue: every confirmed event counted exactly once, and the live scores
equal a replay of the stored dossier history."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import amqp
from sqlalchemy import func, select

from services.common.clock import Clock
from services.common.db import make_engine, session_factory
from services.common.dependencies import load_province_context
from services.common.publisher import connection_params
from services.common.tables import OutboxMessage, ProcessedMessage, QuarantinedMessage
from services.dossiers.adapters.uow import DossiersUnitOfWork
from services.dossiers.handlers import export_snapshots
from services.dossiers.service import DossiersService
from services.dossiers.views import Context
from services.integrator.messages import OutboundMessage, native_message
from services.integrator.publisher import InboundPublisher, PublishError
from services.scoring.adapters.orm import CounterCell, LedgerRow
from services.scoring.replay import fold
from services.scoring.service import ScoringService
from tests.support.services import running, service_config

log = logging.getLogger(__name__)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CLOCK = "2026-10-06T08:00:00+07:00"
UNITS = ["H99.01", "H99.02", "H99.03"]
PROCEDURES = ["1.005342", "2.006481", "1.004783"]


def lifecycles(rng: random.Random, count: int, prefix: str) -> list[dict[str, Any]]:
    """Legal dossier histories accepted in the first days of October 2026 (native bodies)."""
    bodies = []
    for i in range(count):
        code = f"{prefix}-{i:04d}"
        unit, procedure = rng.choice(UNITS), rng.choice(PROCEDURES)
        at = datetime(2026, 10, 1, 8, tzinfo=VN) + timedelta(hours=rng.randrange(0, 72))
        steps = [2, 4]
        if rng.random() < 0.3:
            steps += [5, 4]
        steps += rng.choice([[], [9], [9, 10], [7]])
        extra = {"channel": rng.choice([1, 2]), "digitised": rng.random() < 0.7,
                 "vneid_verified": rng.random() < 0.5}
        for status in steps:
            at += timedelta(hours=rng.randrange(1, 30))
            bodies.append({"dossier_code": code, "status": status, "status_at": at.isoformat(),
                           "unit_code": unit, "procedure_code": procedure, **extra})
    return bodies


def messages_of(bodies: Iterable[dict[str, Any]]) -> list[OutboundMessage]:
    return [native_message(b) for b in bodies]


@dataclass
class Load:
    """What was sent and what the broker confirmed, by message id."""

    sent: dict[str, OutboundMessage] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)
    publish_errors: int = 0

    def statements(self) -> dict[str, set[tuple[int, datetime]]]:
        """(status, instant) per dossier over the confirmed native messages."""
        found: dict[str, set[tuple[int, datetime]]] = {}
        for mid in self.confirmed:
            message = self.sent[mid]
            if message.fmt != "parpulse.dossier.v1":
                continue
            body = json.loads(message.body)
            at = datetime.fromisoformat(body["status_at"])
            found.setdefault(body["dossier_code"], set()).add((body["status"], at))
        return found


def publish_confirmed(uri: str, messages: list[OutboundMessage], load: Load,
                      deadline: float = 90.0, chunk: int = 50, pause: float = 0.0) -> None:
    """Publish in chunks until the broker confirmed every message (same ids when re-sent, as
    an integrator does after a PublishError); bounded by `deadline` seconds."""
    end = time.monotonic() + deadline
    for m in messages:
        load.sent[m.message_id] = m
    pending = list(messages)
    publisher: InboundPublisher | None = None
    try:
        while pending:
            if time.monotonic() > end:
                raise AssertionError(f"{len(pending)} messages never confirmed")
            batch, rest = pending[:chunk], pending[chunk:]
            try:
                if publisher is None:
                    publisher = InboundPublisher(uri, batch_size=chunk, confirm_timeout=5.0)
                    publisher.open()
                publisher.publish_many(batch)
                load.confirmed |= {m.message_id for m in batch}
                pending = rest
            except (PublishError, ConnectionError, RuntimeError) as exc:
                load.publish_errors += 1
                failed = {f.message.message_id for f in getattr(exc, "failed", [])} or \
                    {m.message_id for m in batch}
                load.confirmed |= {m.message_id for m in batch} - failed
                pending = [m for m in batch if m.message_id in failed] + rest
                if publisher is not None:
                    publisher.close()
                publisher = None
                time.sleep(0.5)
            if pause:
                time.sleep(pause)
    finally:
        if publisher is not None:
            publisher.close()


def queue_depth(uri: str, queue: str) -> int:
    """Ready messages in `queue` (AMQP passive declare: works without the management plugin)."""
    conn = amqp.Connection(**{**connection_params(uri), "heartbeat": 0})
    conn.connect()
    try:
        _, count, _ = conn.channel().queue_declare(queue, passive=True)
        return int(count)
    finally:
        conn.close()


# -- the two checks ---------------------------------------------------------------------


def _ctx() -> Context:
    place = load_province_context("demo")
    return Context(place.province, place.calendar, Clock.from_config(CLOCK, None).now())


@dataclass
class Verdict:
    """The state of both databases, compared with what the broker confirmed."""

    missing: set[str]  # confirmed message ids the dossiers service never committed
    unknown: set[str]  # committed ids nobody sent
    history_diff: dict[str, Any]
    pending_outbox: int
    quarantined: int
    live: dict[tuple[str, str, str], int]
    replayed: dict[tuple[str, str, str], int]
    version_diff: dict[str, tuple[int | None, int]]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unknown or self.history_diff or self.pending_outbox
                    or self.quarantined or self.version_diff) and self.live == self.replayed

    def explain(self) -> str:
        diff = {k: (self.live.get(k), self.replayed.get(k))
                for k in set(self.live) | set(self.replayed)
                if self.live.get(k) != self.replayed.get(k)}
        return (f"missing={sorted(self.missing)[:5]} ({len(self.missing)}), "
                f"unknown={len(self.unknown)}, history_diff={list(self.history_diff.items())[:3]}, "
                f"pending_outbox={self.pending_outbox}, quarantined={self.quarantined}, "
                f"version_diff={list(self.version_diff.items())[:5]}, "
                f"counter_diff={list(diff.items())[:5]} ({len(diff)})")


def verdict(load: Load, dossiers_url: str, scoring_url: str,
            expect_quarantined: int = 0) -> Verdict:
    d_engine, s_engine = make_engine(dossiers_url, pool_size=1), make_engine(scoring_url, 1)
    try:
        d_sessions, s_sessions = session_factory(d_engine), session_factory(s_engine)
        with d_sessions() as s:
            processed = set(s.scalars(select(ProcessedMessage.message_id).where(
                ProcessedMessage.consumer == "dossiers.inbound")))
            pending = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.sent_at.is_(None))) or 0
            quarantined = s.scalar(select(func.count()).select_from(QuarantinedMessage)) or 0
        snaps = list(export_snapshots(DossiersUnitOfWork(d_sessions), _ctx()))
        uow = DossiersUnitOfWork(d_sessions)
        history_diff: dict[str, Any] = {}
        with uow:
            for code, expected in load.statements().items():
                dossier = uow.dossiers.get(code)
                got = {(e.status, e.at) for e in dossier.history} if dossier else set()
                if got != expected:
                    history_diff[code] = (sorted(expected - got), sorted(got - expected))
        _, store = fold(snaps)
        replayed = {(unit, bucket, name): value for (unit, bucket), cell in store.cells.items()
                    for name, value in cell.items() if value}
        with s_sessions() as s:
            live = {(c.unit_code, c.bucket, c.name): c.value
                    for c in s.scalars(select(CounterCell)) if c.value}
            ledger = {r.dossier_code: r.version for r in s.scalars(select(LedgerRow))}
        versions = {snap.dossier_code: snap.version for snap in snaps}
        version_diff = {code: (ledger.get(code), v) for code, v in versions.items()
                        if ledger.get(code) != v}
        return Verdict(missing=load.confirmed - processed,
                       unknown=processed - set(load.sent),
                       history_diff=history_diff, pending_outbox=int(pending),
                       quarantined=int(quarantined) - expect_quarantined, live=live,
                       replayed=replayed, version_diff=version_diff)
    finally:
        d_engine.dispose()
        s_engine.dispose()


def await_exactly_once(load: Load, dossiers_url: str, scoring_url: str, timeout: float = 60.0,
                       expect_quarantined: int = 0) -> Verdict:
    """Poll until both databases agree with the confirmed load, then return the verdict; fail
    with the differences if they never do within `timeout` seconds."""
    end = time.monotonic() + timeout
    last: Verdict | None = None
    while time.monotonic() < end:
        try:
            last = verdict(load, dossiers_url, scoring_url, expect_quarantined)
        except Exception as exc:  # a database still restarting: try again
            log.info("verdict not available yet: %s", exc)
            time.sleep(0.5)
            continue
        if last.ok:
            return last
        time.sleep(0.5)
    raise AssertionError("never converged: " + (last.explain() if last else "no verdict"))


# -- the pipeline under test ------------------------------------------------------------


@contextmanager
def pipeline(amqp_uri: str, dossiers_url: str, scoring_url: str,
             dossiers_cls: type = DossiersService, migrate: bool = True,
             **extra: Any) -> Iterator[dict[str, Any]]:
    """dossiers and scoring in this process, on one broker, each with its own database."""
    common = {"CLOCK_START": CLOCK, "DELIVERY_LIMIT": 5, **extra}
    with ExitStack() as stack:
        d = stack.enter_context(running(dossiers_cls, service_config(
            amqp_uri, dossiers_url, **common), migrate="dossiers" if migrate else None))
        s = stack.enter_context(running(ScoringService, service_config(
            amqp_uri, scoring_url, **common), migrate="scoring" if migrate else None))
        yield {"dossiers": d, "scoring": s}
