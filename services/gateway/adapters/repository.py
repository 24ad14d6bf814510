"""The gateway's read model and stream log, in SQLAlchemy 2 `select()` form."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.db import table_of, upsert_many
from services.contracts.dossiers import DossierSnapshot

from .orm import DossierKpiRow, FlagRow, RankingRow, StreamEventRow

_FLAGS = table_of(FlagRow)

# KPI coalescing: consumers count dossier changes in KPI_MARKS; the replica that publishes a kpi
# event records the count it computed from in KPI_PUBLISHED. No lock is held while the KPIs are
# computed, and a change counted after that is published by the next pass.
KPI_MARKS = "kpi_marks"
KPI_PUBLISHED = "kpi_published"
STREAM_LOCK = "stream_lock"


class GatewayRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self._stream: list[dict[str, Any]] = []

    # -- rankings -------------------------------------------------------------------------

    def put_ranking(self, body: dict[str, Any], now: datetime) -> bool:
        """Keep `body` (a RankingChanged) unless a newer version of its ranking is stored."""
        key = (body["scheme"], body["level"], body["period"])
        row = self.session.get(RankingRow, key, with_for_update=True)
        version = int(body["version"])
        if row is None:
            self.session.add(RankingRow(scheme=key[0], level=key[1], period=key[2],
                                        version=version, body=body, updated_at=now))
            return True
        if version <= row.version:
            return False
        row.version, row.body, row.updated_at = version, body, now
        return True

    def ranking(self, scheme: str, level: str, period: str) -> RankingRow | None:
        return self.session.get(RankingRow, (scheme, level, period))

    # -- dossier counters -----------------------------------------------------------------

    def put_dossier(self, snap: DossierSnapshot) -> bool:
        row = self.session.get(DossierKpiRow, snap.dossier_code, with_for_update=True)
        if row is None:
            # Two events of a new dossier can arrive at once (accepted and status changed):
            # the loser of the insert race takes the winner's row under its lock instead.
            try:
                with self.session.begin_nested():
                    row = DossierKpiRow(dossier_code=snap.dossier_code, version=0,
                                        unit_code=snap.unit_code, closed=False)
                    self.session.add(row)
            except IntegrityError:
                row = self.session.get(DossierKpiRow, snap.dossier_code, with_for_update=True,
                                       populate_existing=True)
                assert row is not None
        if snap.version <= row.version:
            return False
        row.version, row.unit_code = snap.version, snap.unit_code
        row.accepted_at, row.completed_at = snap.accepted_at, snap.completed_at
        row.closed = snap.is_closed
        row.outcome = snap.outcome.value if snap.outcome else None
        row.deadline_state = snap.deadline_state.value if snap.deadline_state else None
        return True

    def put_dossiers(self, snaps: Iterable[DossierSnapshot]) -> None:
        """`put_dossier` for a batch, in one statement: a row moves only to a higher version,
        so replicas and reordered events converge on the newest snapshot without locks."""
        newest: dict[str, DossierSnapshot] = {}
        for snap in snaps:
            kept = newest.get(snap.dossier_code)
            if kept is None or snap.version > kept.version:
                newest[snap.dossier_code] = snap
        rows = [{"dossier_code": s.dossier_code, "version": s.version, "unit_code": s.unit_code,
                 "accepted_at": s.accepted_at, "completed_at": s.completed_at,
                 "closed": s.is_closed, "outcome": s.outcome.value if s.outcome else None,
                 "deadline_state": s.deadline_state.value if s.deadline_state else None}
                for _, s in sorted(newest.items())]
        if not rows:
            return
        table = table_of(DossierKpiRow)
        dialect = postgresql if self._postgres else sqlite
        stmt = dialect.insert(table)
        upsert_many(self.session, stmt.on_conflict_do_update(
            index_elements=["dossier_code"],
            set_={k: stmt.excluded[k] for k in rows[0] if k != "dossier_code"},
            where=stmt.excluded.version > table.c.version), rows, table.c.dossier_code)

    def count_accepted(self, start: datetime, end: datetime) -> int:
        q = select(func.count()).select_from(DossierKpiRow).where(
            DossierKpiRow.accepted_at >= start, DossierKpiRow.accepted_at < end)
        return int(self.session.scalar(q) or 0)

    def closed_outcomes(self, start: datetime, end: datetime) -> dict[str | None, int]:
        q = (select(DossierKpiRow.outcome, func.count())
             .where(DossierKpiRow.closed.is_(True), DossierKpiRow.completed_at >= start,
                    DossierKpiRow.completed_at < end)
             .group_by(DossierKpiRow.outcome))
        return {outcome: int(n) for outcome, n in self.session.execute(q)}

    def open_states(self) -> dict[str | None, int]:
        q = (select(DossierKpiRow.deadline_state, func.count())
             .where(DossierKpiRow.closed.is_(False)).group_by(DossierKpiRow.deadline_state))
        return {state: int(n) for state, n in self.session.execute(q)}

    # -- flags ----------------------------------------------------------------------------

    def _flag(self, name: str, now: datetime) -> FlagRow:
        row = self.session.get(FlagRow, name, with_for_update=True)
        if row is None:
            row = FlagRow(name=name, value=0, updated_at=now)
            self.session.add(row)
            self.session.flush()
        return row

    def mark_kpi_dirty(self, now: datetime) -> None:
        """Counts a change (last in a batch: the row stays locked only for the commit)."""
        stmt = (postgresql if self._postgres else sqlite).insert(_FLAGS)
        self.session.execute(stmt.values(name=KPI_MARKS, value=1, updated_at=now)
                             .on_conflict_do_update(index_elements=["name"], set_={
                                 "value": _FLAGS.c.value + 1, "updated_at": now}))

    def kpi_marks(self) -> tuple[int, int]:
        """(changes counted, changes the last published kpi event was computed from)."""
        found = {name: value for name, value in self.session.execute(
            select(_FLAGS.c.name, _FLAGS.c.value).where(
                _FLAGS.c.name.in_([KPI_MARKS, KPI_PUBLISHED])))}
        return int(found.get(KPI_MARKS, 0)), int(found.get(KPI_PUBLISHED, 0))

    def claim_kpi_publication(self, marks: int, now: datetime) -> bool:
        """True for the one replica that publishes the KPIs of `marks` counted changes."""
        stmt = (postgresql if self._postgres else sqlite).insert(_FLAGS)
        result: Any = self.session.execute(
            stmt.values(name=KPI_PUBLISHED, value=marks, updated_at=now).on_conflict_do_update(
                index_elements=["name"], set_={"value": marks, "updated_at": now},
                where=_FLAGS.c.value < marks))
        return bool(result.rowcount)

    # -- stream log -----------------------------------------------------------------------

    def append_stream(self, kind: str, data: dict[str, Any], now: datetime) -> None:
        """Append one stream event; written by `flush`, just before the commit."""
        self._stream.append({"kind": kind, "data": data, "created_at": now})

    def flush(self) -> None:
        """The stream rows of this unit of work. The lock row serialises writers until commit,
        so ids become visible in increasing order and a reader resuming after id N never skips
        a row that commits later with a smaller id; taken last, it is held only for that."""
        rows, self._stream = self._stream, []
        if rows:
            self._flag(STREAM_LOCK, rows[0]["created_at"])
            self.session.execute(insert(table_of(StreamEventRow)), rows)

    def stream_after(self, last_id: int, limit: int = 500) -> list[StreamEventRow]:
        q = (select(StreamEventRow).where(StreamEventRow.id > last_id)
             .order_by(StreamEventRow.id).limit(limit))
        return list(self.session.scalars(q))

    def last_stream_id(self) -> int:
        return int(self.session.scalar(select(func.max(StreamEventRow.id))) or 0)

    def prune_stream(self, keep: int, max_age: timedelta, now: datetime) -> int:
        last = self.last_stream_id()
        result = self.session.execute(delete(StreamEventRow).where(
            (StreamEventRow.id <= last - keep) | (StreamEventRow.created_at < now - max_age)))
        return int(getattr(result, "rowcount", 0) or 0)
