"""Builders shared by the scoring service and integration tests: dossier snapshots, events and
random histories."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from services.common.db import make_engine, session_factory
from services.common.entrypoints import InboundMessage
from services.common.migrate import upgrade
from services.common.reference import load_province
from services.contracts import dossiers as ev
from services.scoring.adapters.uow import ScoringUnitOfWork
from services.scoring.context import ScoringContext
from services.scoring.dependencies import DATA_ROOT
from services.scoring.domain.periods import VN_TZ
from services.scoring.scheme_loader import load_schemes

TODAY = date(2026, 11, 22)
CLOCK_START = "2026-11-22T10:00:00+07:00"
DEPARTMENTS = ("H99.01", "H99.02", "H99.03")
COMMUNES = ("H99.50.01", "H99.50.02")
PROCEDURES = ("1.003753", "1.004651", "1.002481")


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=VN_TZ)


def snapshot(code: str, version: int, unit: str, status: int, **extra: Any
             ) -> ev.DossierSnapshot:
    fields: dict[str, Any] = {"procedure_code": PROCEDURES[0], "channel": 1,
                              "accepted_at": at(TODAY - timedelta(days=2)), **extra}
    return ev.DossierSnapshot(dossier_code=code, version=version, unit_code=unit,
                              status=ev.Status(status), **fields)


def event_for(snap: ev.DossierSnapshot) -> ev.DossierEvent:
    if snap.outcome is not None and snap.status in (9, 10):
        return ev.DossierCompleted(dossier=snap, outcome=snap.outcome)
    return ev.DossierRevised(dossier=snap)


def inbound(event: ev.Event, message_id: str | None = None) -> InboundMessage:
    return InboundMessage(body=event.model_dump_json().encode(),
                          message_id=message_id or str(event.event_id),
                          message_type=event.TYPE, routing_key=event.TYPE)


def random_snapshot(rng: random.Random, code: str, version: int) -> ev.DossierSnapshot:
    status = rng.choice([1, 2, 3, 4, 5, 7, 9, 10])
    accepted = TODAY - timedelta(days=rng.randrange(0, 60))
    flag = lambda: rng.choice([None, True, False])  # noqa: E731
    return snapshot(
        code, version, rng.choice(DEPARTMENTS + COMMUNES), status,
        procedure_code=rng.choice(PROCEDURES), channel=rng.choice([None, 1, 2]),
        accepted_at=None if status == 1 else at(accepted),
        submitted_at=at(accepted, 8),
        outcome=rng.choice([None, "early", "on_time", "late"]) if status in (9, 10) else None,
        deadline_state=rng.choice([None, "within", "overdue", "due_soon"]),
        supplement_count=rng.choice([0, 0, 1, 2]), synced_national=flag(),
        fee_bearing=flag(), paid_online=flag(), digitised=flag(), needs_result=flag(),
        e_result=flag(), vneid_verified=flag())


def random_history(rng: random.Random, dossiers: int) -> tuple[list[ev.DossierSnapshot],
                                                                list[ev.DossierEvent]]:
    """Every version of every dossier, and a delivery order of their events with duplicates
    (same event redelivered, and the same snapshot under a new event id) and reordering."""
    snapshots = [random_snapshot(rng, f"H99-2611-{n:04d}", v)
                 for n in range(dossiers) for v in range(1, rng.randint(1, 5) + 1)]
    events: list[ev.DossierEvent] = [event_for(s) for s in snapshots]
    deliveries = events + rng.sample(events, len(events) // 4)
    deliveries += [event_for(s) for s in rng.sample(snapshots, len(snapshots) // 4)]
    rng.shuffle(deliveries)
    return snapshots, deliveries


def scoring_context(today: date = TODAY) -> ScoringContext:
    return ScoringContext(load_province("demo", DATA_ROOT / "provinces"),
                          load_schemes(DATA_ROOT / "schemes"), today)


@contextmanager
def scoring_db(url: str) -> Iterator[Any]:
    """A migrated scoring database; yields a factory of units of work."""
    upgrade("scoring", url)
    engine = make_engine(url, pool_size=4)
    sessions = session_factory(engine)
    try:
        yield lambda: ScoringUnitOfWork(sessions)
    finally:
        engine.dispose()
