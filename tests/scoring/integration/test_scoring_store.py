"""The scoring handlers on a real database (SQLite and PostgreSQL), without the broker."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest

from services.contracts.dossiers import DossierEvent, DossierRevised
from services.scoring import handlers, queries
from services.scoring.adapters.repository import Cells
from services.scoring.adapters.uow import ScoringUnitOfWork
from services.scoring.context import ScoringContext
from services.scoring.replay import fold, replay
from tests.scoring.scoring_support import (
    TODAY,
    at,
    event_for,
    inbound,
    random_history,
    scoring_context,
    scoring_db,
    snapshot,
)

NewUow = Callable[[], ScoringUnitOfWork]


def _cells(uow_factory: NewUow) -> Cells:
    with uow_factory() as uow:
        return uow.scores.all_cells()


def _deliver(new_uow: NewUow, ctx: ScoringContext, events: list[DossierEvent]) -> list[str]:
    return [handlers.handle_dossier_event(new_uow(), inbound(e), ctx) for e in events]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_live_counters_equal_replay_on_random_histories(database_url: str, seed: int) -> None:
    rng = random.Random(seed)
    snapshots, deliveries = random_history(rng, 25)
    ctx = scoring_context()
    with scoring_db(database_url) as new_uow:
        _deliver(new_uow, ctx, deliveries)
        # A redelivery of the very same message is recognised by its id.
        assert handlers.handle_dossier_event(new_uow(), inbound(deliveries[0]), ctx) == \
            "duplicate"
        live = _cells(new_uow)
        replayed = rng.sample(snapshots, len(snapshots))
        assert replay(new_uow(), replayed) == 25
        assert _cells(new_uow) == live
    _, expected = fold(snapshots)
    assert live == {k: v for k, v in expected.cells.items() if v}


def test_reordered_versions_leave_the_in_order_counters(database_url: str) -> None:
    ctx = scoring_context()
    versions = [snapshot("D-1", 1, "H99.01", 2),
                snapshot("D-1", 2, "H99.01", 4, deadline_state="overdue"),
                snapshot("D-1", 3, "H99.02", 9, outcome="on_time", completed_at=at(TODAY))]
    events = {s.version: event_for(s) for s in versions}
    with scoring_db(database_url) as new_uow:
        outcomes = _deliver(new_uow, ctx, [events[3], events[1], events[2], events[3]])
        assert outcomes == ["processed", "stale", "stale", "duplicate"]
        cells = _cells(new_uow)
    assert ("H99.01", "2026-11") not in cells  # the unit change moved everything
    month = cells[("H99.02", "2026-11")]
    assert month["closed_on_time"] == 1 and month["progress_numerator"] == 1
    assert "open_overdue" not in month


def test_dirty_rankings_are_coalesced_into_one_event_per_scheme_and_period(
        database_url: str) -> None:
    ctx = scoring_context()
    with scoring_db(database_url) as new_uow:
        # The day's first pass ranks every level with units (department, branch, commune; no
        # district exists any more) for the 4 live periods and 2 schemes; the next has no work.
        assert handlers.rank_dirty(new_uow(), ctx, at(TODAY, 8)) == 3 * 4 * 2
        assert handlers.rank_dirty(new_uow(), ctx, at(TODAY, 8)) == 0
        _deliver(new_uow, ctx, [DossierRevised(dossier=snapshot(f"D-{n}", 1, "H99.01", 2))
                                for n in range(5)])
        published = handlers.rank_dirty(new_uow(), ctx, at(TODAY, 10))
        # 2 schemes x 4 live periods of the department level, whatever the number of events.
        assert published == 2 * 4
        assert handlers.rank_dirty(new_uow(), ctx, at(TODAY, 10)) == 0
        # The next day every live ranking is reconsidered; only the window and the counters
        # decide whether anything is published (here nothing moved).
        tomorrow = scoring_context(TODAY + timedelta(days=1))
        assert handlers.rank_dirty(new_uow(), tomorrow, at(TODAY, 10)) == 0
        ranking = queries.get_ranking(new_uow(), ctx, "qd766", "department", "2026-11")
    assert ranking.version == 2
    top = ranking.entries[0]
    assert top.unit_code == "H99.01" and top.rank == 1
    # Five accepted, open within deadline, in person: progress 20/20, online 0/12 (of a target
    # of 50%), nothing else reported: 20 / 32 = 62.50.
    assert round(top.score_100 or 0, 2) == 62.5


def test_closed_year_gives_year_over_year_rank_changes(database_url: str) -> None:
    ctx = scoring_context()
    last_year = TODAY.replace(year=2025)
    on_time = dict(outcome="on_time", completed_at=at(TODAY))
    history = [  # 2025: H99.02 first; 2026: H99.01 first.
        snapshot("Y-1", 1, "H99.01", 9, accepted_at=at(last_year), outcome="late"),
        snapshot("Y-2", 1, "H99.02", 9, accepted_at=at(last_year), **on_time),
        snapshot("Y-3", 1, "H99.01", 9, **on_time),
        snapshot("Y-4", 1, "H99.02", 9, outcome="late"),
    ]
    with scoring_db(database_url) as new_uow:
        _deliver(new_uow, ctx, [event_for(s) for s in history])
        closed = queries.close_period(new_uow(), ctx, "2025", at(TODAY))
        # Closing again keeps the first snapshot, even after the counters moved.
        _deliver(new_uow, ctx, [event_for(snapshot("Y-1", 2, "H99.01", 9, **on_time,
                                                   accepted_at=at(last_year)))])
        again = queries.close_period(new_uow(), ctx, "2025", at(TODAY))
        year = queries.get_ranking(new_uow(), ctx, "qd766", "department", "2026")
        history_of = queries.get_unit_history(new_uow(), ctx, "qd766", "H99.01")
    frozen = next(r for r in closed if (r.scheme, r.level) == ("qd766", "department"))
    assert [(e.unit_code, e.rank) for e in frozen.entries[:2]] == [("H99.02", 1), ("H99.01", 2)]
    assert again == closed
    top = year.entries[0]
    assert (top.unit_code, top.rank, top.previous_period_rank, top.period_change) == \
        ("H99.01", 1, 2, 1)
    assert [(h.period, h.level, h.entry.rank) for h in history_of.periods] == \
        [("2025", "department", 2)]


def test_scorecard_lists_the_dossiers_that_cost_points_by_page(database_url: str) -> None:
    ctx = scoring_context()
    history = [snapshot(f"S-{n}", 1, "H99.05", 4, deadline_state="overdue" if n % 2 else
                        "within", channel=2 if n < 3 else 1) for n in range(6)]
    with scoring_db(database_url) as new_uow:
        _deliver(new_uow, ctx, [event_for(s) for s in history])
        card = queries.get_scorecard(new_uow(), ctx, "qd766", "H99.05", "rolling-30", limit=2,
                                     offset=1)
    progress = next(x for x in card.lines if x.key == "handled_on_time")
    assert (progress.numerator, progress.denominator, progress.points) == (3, 6, 10.0)
    # S-1, S-3, S-5 overdue; S-3, S-4, S-5 not filed online: four dossiers; a page from the 2nd.
    assert card.costly_total == 4
    assert [(c.dossier_code, c.indicators) for c in card.costly] == [
        ("S-3", ["handled_on_time", "online_filing"]), ("S-4", ["online_filing"])]
    assert "synced_national" in card.not_measured


def test_the_ranker_keeps_only_the_latest_snapshot_and_its_cache_follows_the_database(
        database_url: str) -> None:
    from sqlalchemy import func, select

    from services.scoring.adapters.orm import RankingSnapshot
    from services.scoring.rankings import RankingCache

    ctx, cache = scoring_context(), RankingCache()
    with scoring_db(database_url) as new_uow:
        handlers.rank_dirty(new_uow(), ctx, at(TODAY, 8), cache=cache)
        # Each pass ranks one more department (a unit with a dossier gets a score): it moves.
        for n in (1, 2, 3):
            _deliver(new_uow, ctx, [DossierRevised(dossier=snapshot(f"C-{n}", 1, f"H99.0{n}",
                                                                    2))])
            assert handlers.rank_dirty(new_uow(), ctx, at(TODAY, 9), cache=cache) == 2 * 4
        # A pass without the cache (another replica) publishes on top of what this one saw.
        _deliver(new_uow, ctx, [DossierRevised(dossier=snapshot("C-4", 1, "H99.04", 2))])
        assert handlers.rank_dirty(new_uow(), ctx, at(TODAY, 9)) == 2 * 4
        _deliver(new_uow, ctx, [DossierRevised(dossier=snapshot("C-5", 1, "H99.05", 2))])
        assert handlers.rank_dirty(new_uow(), ctx, at(TODAY, 9), cache=cache) == 2 * 4
        with new_uow() as uow:
            rows = uow.session.execute(
                select(RankingSnapshot.version, func.count()).where(
                    RankingSnapshot.scheme == "qd766", RankingSnapshot.level == "department",
                    RankingSnapshot.period == "2026-11").group_by(RankingSnapshot.version)).all()
        ranking = queries.get_ranking(new_uow(), ctx, "qd766", "department", "2026-11")
    assert rows == [(6, 1)]  # six versions published, one row kept
    assert ranking.version == 6
    # The cached pass compared with the other replica's version 5 (where H99.04 was ranked),
    # not with its own version 4 (where it was not).
    assert [e.previous_rank for e in ranking.entries if e.unit_code == "H99.04"] != [None]


def test_a_pass_commits_each_level_and_period_the_month_first_and_skips_a_kind_locked_elsewhere(
        database_url: str) -> None:
    from services.contracts.scoring import RankingChanged
    from services.scoring.adapters.repository import SqlScoringRepository

    class Recording(ScoringUnitOfWork):
        """Records each commit's rankings; the ranker's lock is taken elsewhere for the kinds
        of period in `taken`."""
        commits: list[set[tuple[str, str]]] = []
        taken: set[str] = set()

        def __enter__(self) -> Recording:
            super().__enter__()
            cls = type(self)
            scores = self.scores
            assert isinstance(scores, SqlScoringRepository)
            real = scores.lock_ranker

            def lock_ranker(kind: str) -> bool:
                return real(kind) and kind not in cls.taken

            scores.lock_ranker = lock_ranker  # type: ignore[method-assign]
            return self

        def commit(self) -> None:
            super().commit()
            type(self).commits.append({(e.level, e.period) for e in self.last_committed
                                       if isinstance(e, RankingChanged)})

    ctx = scoring_context()
    with scoring_db(database_url) as new_uow:
        handlers.rank_dirty(new_uow(), ctx, at(TODAY, 8))
        factory = new_uow()._sessions  # the same database, through the recording unit of work
        _deliver(new_uow, ctx, [DossierRevised(dossier=snapshot("G-1", 1, "H99.01", 2))])
        assert handlers.rank_dirty(Recording(factory), ctx, at(TODAY, 9)) == 2 * 4
        # The claim, then one commit per live period of the department level, month first,
        # each with both schemes' rankings.
        assert Recording.commits == [set()] + [{("department", p)} for p in ctx.live_periods()]
        # Another pass is ranking the quarter and the year: they stay dirty for it.
        _deliver(new_uow, ctx, [DossierRevised(dossier=snapshot("G-2", 1, "H99.02", 2))])
        Recording.commits, Recording.taken = [], {"quarter", "year"}
        assert handlers.rank_dirty(Recording(factory), ctx, at(TODAY, 9)) == 2 * 2
        assert Recording.commits == [set(), {("department", ctx.live_periods()[0])},
                                     {("department", "rolling-30")}]
        # A pass limited to some periods leaves the others dirty.
        assert handlers.rank_dirty(new_uow(), ctx, at(TODAY, 9),
                                   periods=ctx.live_periods()[1:2]) == 2
        assert handlers.rank_dirty(new_uow(), ctx, at(TODAY, 9)) == 2
        assert handlers.rank_dirty(new_uow(), ctx, at(TODAY, 9)) == 0
