"""One contract for the dossier repository port, run on every implementation: the SQL adapter on
SQLite and on PostgreSQL (one transaction, rolled back), and the in-memory fake the handler
tests rely on, so the fake cannot drift from the real thing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from services.common.db import make_engine, session_factory
from services.common.migrate import upgrade
from services.dossiers.adapters.repository import (
    Derived,
    DossierRepository,
    SqlDossierRepository,
)
from services.dossiers.domain.dossier import Dossier, Entry
from services.dossiers.domain.sla import Pause
from tests.dossiers.fakes import FakeDossierRepository

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 10, 16, 9, tzinfo=VN)
HOUR = timedelta(hours=1)

# A repository, and a way to see what it stored afresh (not from an object cache).
Store = tuple[DossierRepository, Callable[[], DossierRepository]]


def t(day: int, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=VN)


def open_dossier(code: str, unit: str = "H99.01", status: int = 4) -> Dossier:
    history = [Entry(2, t(5))] + ([Entry(status, t(5, 9))] if status != 2 else [])
    return Dossier(code, unit, "1.005342", version=len(history), history=history)


def state(name: str | None, due_at: datetime | None, due_soon_at: datetime | None = None, *,
          closed: bool = False) -> Derived:
    return Derived(closed=closed, paused=name == "paused", deadline_state=name,
                   outcome="on_time" if closed else None, due_at=due_at,
                   due_soon_at=due_soon_at)


def codes(found: list[Dossier]) -> list[str]:
    return [d.code for d in found]


class RepositoryContract:
    """The tests; each subclass provides the `store` fixture."""

    def test_round_trip_preserves_the_aggregate(self, store: Store) -> None:
        repo, fresh = store
        d = Dossier(
            code="H99.01-261005-0001", unit_code="H99.02", procedure_code="1.005342", version=4,
            history=[Entry(2, t(5)), Entry(4, t(5, 9)), Entry(5, t(6, 10, 30)), Entry(4, t(8))],
            facts={"channel": 2, "applicant_type": 1, "paid_online": True, "digitised": False,
                   "submitted_at": t(5, 7, 30), "accepted_at": t(5),
                   "source_due_at": t(19, 17), "apology_issued_at": t(9, 10),
                   "apology_new_due_at": t(23, 17)},
            supplements=(Pause(t(6, 10, 30), t(8)), Pause(t(9, 14))),
            personal={"holder_name": "Nguyễn Văn Mẫu", "phone": "0912345678"},
            stated_at={"unit_code": t(8), "supplements": t(8), "personal.phone": t(5)},
        )
        repo.save(d, state("within", t(20, 10), t(19, 10)), NOW)
        got = fresh().get(d.code)
        assert got == d
        assert got is not d
        aware = [e.at for e in got.history] + [p.start for p in got.supplements] + [
            v for v in got.facts.values() if isinstance(v, datetime)] + list(
            got.stated_at.values())
        assert len(aware) == 4 + 2 + 5 + 3
        assert all(x.tzinfo is not None and x.utcoffset() is not None for x in aware)
        assert got.status == 4

    def test_unknown_code(self, store: Store) -> None:
        repo, fresh = store
        assert repo.get("H99.01-NOPE") is None
        assert fresh().get("H99.01-NOPE") is None

    def test_saving_again_updates_the_one_dossier(self, store: Store) -> None:
        repo, fresh = store
        d = open_dossier("H99.01-A")
        repo.save(d, state("within", t(19), t(16)), NOW)
        again = fresh()
        got = again.get("H99.01-A")
        assert got is not None and got.version == 2
        got.history.append(Entry(9, t(12)))
        got.version += 1
        got.facts["e_result"] = True
        again.save(got, state(None, t(19), t(16), closed=True), NOW + HOUR)
        final = fresh().get("H99.01-A")
        assert final is not None
        assert (final.version, final.status, final.facts) == (3, 9, {"e_result": True})
        assert fresh().list_by_state(None, "within", 10, 0) == []

    def test_a_dossier_changed_after_saving_is_not_stored_until_saved(self, store: Store) -> None:
        repo, fresh = store
        d = open_dossier("H99.01-A")
        repo.save(d, state("within", t(19), t(16)), NOW)
        d.version = 99
        got = fresh().get("H99.01-A")
        assert got is not None and got.version == 2

    def test_claim_due_returns_open_unannounced_dossiers_past_a_threshold(
            self, store: Store) -> None:
        repo, fresh = store
        cases = {
            "due-soon": state("due_soon", NOW + 5 * HOUR, NOW - HOUR),
            "overdue": state("overdue", NOW - HOUR, NOW - 9 * HOUR),
            "not-yet": state("within", NOW + 30 * HOUR, NOW + 2 * HOUR),
            "closed": state("overdue", NOW - HOUR, NOW - 9 * HOUR, closed=True),
            "paused": state("paused", NOW - HOUR, None),
            "no-due-date": state("within", None, None),
            "announced-soon": state("due_soon", NOW + 5 * HOUR, NOW - 2 * HOUR),
            "announced-late": state("overdue", NOW - 2 * HOUR, NOW - 10 * HOUR),
            "soon-but-late": state("overdue", NOW - 3 * HOUR, NOW - 11 * HOUR),
        }
        for code, derived in cases.items():
            repo.save(open_dossier(code), derived, NOW)
        assert repo.record_crossing("announced-soon", "due_soon", NOW)
        assert repo.record_crossing("announced-late", "overdue", NOW)
        assert repo.record_crossing("soon-but-late", "due_soon", NOW)
        # By due-soon time: the most urgent first.
        assert codes(fresh().claim_due(NOW, 100)) == ["soon-but-late", "overdue", "due-soon"]
        assert codes(fresh().claim_due(NOW, 2)) == ["soon-but-late", "overdue"]
        assert codes(fresh().claim_due(NOW - 10 * HOUR, 100)) == []
        claimed = fresh().claim_due(NOW, 100)
        assert claimed[1] == open_dossier("overdue")

    def test_record_crossing_is_true_once_then_false(self, store: Store) -> None:
        repo, fresh = store
        repo.save(open_dossier("H99.01-A"), state("due_soon", NOW + HOUR, NOW - HOUR), NOW)
        assert repo.record_crossing("H99.01-A", "due_soon", NOW) is True
        assert repo.record_crossing("H99.01-A", "due_soon", NOW + HOUR) is False
        assert fresh().record_crossing("H99.01-A", "due_soon", NOW) is False
        assert fresh().claim_due(NOW, 10) == []
        assert fresh().record_crossing("H99.01-A", "overdue", NOW + 2 * HOUR) is True
        assert fresh().record_crossing("H99.01-A", "overdue", NOW + 3 * HOUR) is False

    def test_an_overdue_announcement_covers_due_soon(self, store: Store) -> None:
        repo, fresh = store
        repo.save(open_dossier("H99.01-A"), state("due_soon", NOW + HOUR, NOW - HOUR), NOW)
        assert repo.record_crossing("H99.01-A", "overdue", NOW) is True
        assert fresh().claim_due(NOW + 2 * HOUR, 10) == []

    def test_announcements_survive_saving_the_dossier_again(self, store: Store) -> None:
        repo, fresh = store
        d = open_dossier("H99.01-A")
        repo.save(d, state("due_soon", NOW + HOUR, NOW - HOUR), NOW)
        assert repo.record_crossing("H99.01-A", "due_soon", NOW)
        d.version += 1
        repo.save(d, state("due_soon", NOW + HOUR, NOW - HOUR), NOW)
        assert fresh().claim_due(NOW, 10) == []

    def test_list_by_state_filters_by_unit_and_state_and_pages(self, store: Store) -> None:
        repo, fresh = store
        rows = [
            ("B-1", "H99.01", state("overdue", t(12))),
            ("B-2", "H99.01", state("overdue", t(10))),
            ("B-3", "H99.02", state("overdue", t(11))),
            ("B-4", "H99.01", state("overdue", t(10))),  # same due date: by code
            ("B-5", "H99.01", state("due_soon", t(17), t(16))),
            ("B-6", "H99.01", state("overdue", t(9), closed=True)),
            ("B-7", "H99.01", state("within", t(30), t(29))),
        ]
        for code, unit, derived in rows:
            repo.save(open_dossier(code, unit), derived, NOW)
        view = fresh()
        assert codes(view.list_by_state(None, "overdue", 10, 0)) == ["B-2", "B-4", "B-3", "B-1"]
        assert codes(view.list_by_state("H99.01", "overdue", 10, 0)) == ["B-2", "B-4", "B-1"]
        assert codes(view.list_by_state("H99.02", "overdue", 10, 0)) == ["B-3"]
        assert codes(view.list_by_state("H99.01", "overdue", 2, 0)) == ["B-2", "B-4"]
        assert codes(view.list_by_state("H99.01", "overdue", 2, 2)) == ["B-1"]
        assert codes(view.list_by_state("H99.01", "overdue", 2, 4)) == []
        assert codes(view.list_by_state(None, "due_soon", 10, 0)) == ["B-5"]
        assert codes(view.list_by_state("H99.03", "within", 10, 0)) == []
        assert view.list_by_state(None, "overdue", 1, 0)[0] == open_dossier("B-2")


class TestSqlDossierRepository(RepositoryContract):
    @pytest.fixture
    def store(self, database_url: str) -> Iterator[Store]:
        upgrade("dossiers", database_url)
        engine = make_engine(database_url)
        session: Session = session_factory(engine)()
        made: list[SqlDossierRepository] = []

        def new() -> SqlDossierRepository:
            made.append(SqlDossierRepository(session))
            return made[-1]

        def fresh() -> DossierRepository:
            # Write what is pending (as the unit of work does before committing) and forget
            # every loaded row: the next read is the database's.
            for repo in made:
                repo.flush()
            session.flush()
            session.expire_all()
            return new()

        try:
            yield new(), fresh
        finally:
            session.rollback()
            session.close()
            engine.dispose()


class TestFakeDossierRepository(RepositoryContract):
    @pytest.fixture
    def store(self) -> Store:
        repo = FakeDossierRepository()
        return repo, lambda: repo
