"""Dossiers and scoring as separate services on the broker: counters folded live from the
events equal counters rebuilt by `parpulse export` + `parpulse replay` from the dossier history
(DESIGN.md rule 7), with duplicated and reordered inbound traffic."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.cli import main as parpulse
from services.common.db import make_engine, session_factory
from services.common.migrate import upgrade
from services.dossiers.service import DossiersService
from services.scoring.adapters.orm import CounterCell
from services.scoring.service import EVENTS_QUEUE, ScoringService
from tests.dossiers.service.conftest import Inbound, native
from tests.support import broker
from tests.support.services import running, service_config, wait_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CLOCK = "2026-10-06T08:00:00+07:00"
UNITS = ["H99.01", "H99.02", "H99.03"]
PROCEDURES = ["1.005342", "2.006481", "1.004783"]


def lifecycles(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Random but legal dossier histories accepted in the first days of October 2026."""
    messages = []
    for i in range(count):
        code = f"E2E-{i:04d}"
        unit, procedure = rng.choice(UNITS), rng.choice(PROCEDURES)
        at = datetime(2026, 10, 1, 8, tzinfo=VN) + timedelta(hours=rng.randrange(0, 72))
        steps = [2, 4]
        if rng.random() < 0.3:
            steps += [5, 4] * rng.choice([1, 2])
        steps += rng.choice([[], [9], [9, 10], [7]])
        extra = {"channel": rng.choice([1, 2]), "digitised": rng.random() < 0.7,
                 "vneid_verified": rng.random() < 0.5}
        for status in steps:
            at += timedelta(hours=rng.randrange(1, 30))
            messages.append(native(code, status, at, unit_code=unit, procedure_code=procedure,
                                   **extra))
    return messages


def counters(url: str) -> dict[tuple[str, str, str], int]:
    engine = make_engine(url, pool_size=1)
    with session_factory(engine)() as s:
        cells = {(c.unit_code, c.bucket, c.name): c.value
                 for c in s.scalars(select(CounterCell)) if c.value}
    engine.dispose()
    return cells


def test_replay_of_the_dossier_history_equals_the_live_counters(
        vhost: str, tmp_path: Path, monkeypatch: Any) -> None:
    rng = random.Random(20261006)
    messages = lifecycles(rng, 40)
    # Out of order, and a fifth of them twice.
    rng.shuffle(messages)
    messages += rng.sample(messages, len(messages) // 5)
    dossiers_db, live_db = f"sqlite:///{tmp_path}/d.db", f"sqlite:///{tmp_path}/live.db"
    clock = {"CLOCK_START": CLOCK}
    with running(DossiersService, service_config(vhost, dossiers_db, **clock),
                 migrate="dossiers"), \
            running(ScoringService, service_config(vhost, live_db, **clock),
                    migrate="scoring"):
        inbound = Inbound(vhost)
        for body in messages:
            inbound.send(body)
        wait_for(lambda: broker.queue_info(vhost, "dossiers.inbound").get("messages") == 0
                 and broker.queue_info(vhost, EVENTS_QUEUE).get("messages") == 0
                 and broker.queue_info(vhost, EVENTS_QUEUE).get("messages_unacknowledged") == 0
                 and _all_sent(dossiers_db), timeout=60, what="both services idle")
    live = counters(live_db)
    assert live, "the live path counted nothing"

    export = tmp_path / "dossiers.jsonl"
    replay_db = f"sqlite:///{tmp_path}/replay.db"
    upgrade("scoring", replay_db)
    monkeypatch.setenv("CLOCK_START", CLOCK)
    assert parpulse(["export", "--out", str(export), "--database-url", dossiers_db]) == 0
    assert len(export.read_text().splitlines()) == 40
    assert parpulse(["replay", str(export), "--database-url", replay_db]) == 0
    assert counters(replay_db) == live


def _all_sent(url: str) -> bool:
    from services.common.tables import OutboxMessage

    engine = make_engine(url, pool_size=1)
    with session_factory(engine)() as s:
        pending = s.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).first()
    engine.dispose()
    return pending is None
