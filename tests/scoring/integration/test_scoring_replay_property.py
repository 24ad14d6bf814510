"""Property: random histories through the live handlers equal their replay (SQLite)."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from services.common.tables import ProcessedMessage
from services.scoring import handlers
from services.scoring.adapters.orm import CounterCell, LedgerRow
from services.scoring.replay import fold, replay
from tests.scoring.scoring_support import inbound, random_history, scoring_context, scoring_db


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rng=st.randoms(use_true_random=False), dossiers=st.integers(1, 15))
def test_live_equals_replay_for_any_history(tmp_path: Path, rng: random.Random,
                                            dossiers: int) -> None:
    ctx = scoring_context()
    snapshots, deliveries = random_history(rng, dossiers)
    with scoring_db(f"sqlite:///{tmp_path}/property.db") as new_uow:
        with new_uow() as uow:  # one database for every example: start each one empty
            for table in (CounterCell, LedgerRow, ProcessedMessage):
                uow.session.execute(delete(table))
            uow.commit()
        for event in deliveries:
            handlers.handle_dossier_event(new_uow(), inbound(event), ctx)
        with new_uow() as uow:
            live = uow.scores.all_cells()
        replay(new_uow(), rng.sample(snapshots, len(snapshots)))
        with new_uow() as uow:
            replayed = uow.scores.all_cells()
    assert live == replayed == fold(snapshots)[1].cells
