"""The dossiers service killed (`kill -9`, as a separate process) while applying a message:
before its transaction commits, and after the commit but before the ack. The message comes back
from the broker; a fresh replica applies it (or finds it applied) and nothing is counted twice."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from services.common.db import make_engine, session_factory
from services.common.migrate import upgrade
from services.common.tables import OutboxMessage
from services.dossiers.service import DossiersService
from services.scoring.service import ScoringService
from tests.faults.conftest import PrivatePostgres
from tests.faults.faults_support import (
    CLOCK,
    Load,
    await_exactly_once,
    lifecycles,
    messages_of,
    publish_confirmed,
)
from tests.support.services import running, service_config, wait_for

ROOT = Path(__file__).resolve().parents[2]


def accepted_events(url: str, code: str) -> int:
    engine = make_engine(url, pool_size=1)
    with session_factory(engine)() as s:
        rows = [json.loads(r.body) for r in s.scalars(select(OutboxMessage).where(
            OutboxMessage.message_type == "dossier.accepted"))]
    engine.dispose()
    return sum(1 for r in rows if r["dossier"]["dossier_code"] == code)


@pytest.mark.parametrize("fault_at", ["before_commit", "after_commit"])
def test_service_killed_around_its_commit_loses_and_doubles_nothing(
        vhost: str, private_pg: PrivatePostgres, tmp_path: Path, fault_at: str) -> None:
    rng = random.Random(7002)
    bodies = lifecycles(rng, 15, f"H99.01-KILL{fault_at[0]}")
    chosen = bodies[0]["dossier_code"]
    messages = messages_of(bodies)
    d_url, s_url = private_pg.create_database(), private_pg.create_database()
    upgrade("dossiers", d_url)
    cfg = service_config(vhost, d_url, CLOCK_START=CLOCK, DELIVERY_LIMIT=5)
    marker = tmp_path / "stalled"
    env = {**os.environ, "FAULT_CONFIG": json.dumps(cfg), "FAULT_AT": fault_at,
           "FAULT_DOSSIER": chosen, "FAULT_MARKER": str(marker)}
    load = Load()
    with running(ScoringService, service_config(vhost, s_url, CLOCK_START=CLOCK),
                 migrate="scoring"):
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen([sys.executable, "-m", "tests.faults.faults_worker"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            publish_confirmed(vhost, messages, load)
            wait_for(marker.exists, timeout=60, what=f"the worker stalled {fault_at}")
        finally:
            worker.kill()  # SIGKILL: no cleanup, no rollback, no ack
            worker.wait(10)
            log.close()
        assert worker.returncode == -9
        with running(DossiersService, cfg):
            await_exactly_once(load, d_url, s_url, timeout=90)
    assert load.confirmed == set(load.sent)
    assert accepted_events(d_url, chosen) == 1
