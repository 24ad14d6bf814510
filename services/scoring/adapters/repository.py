"""Scoring persistence: the port the handlers use, and its SQLAlchemy adapter.

Counter cells and dirty marks are changed with `INSERT ... ON CONFLICT DO UPDATE SET x = x + d`
(PostgreSQL and SQLite alike): atomic per row, so concurrent replicas add up exactly. Rows are
always touched in sorted order so two transactions cannot deadlock on them.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..domain.counters import BucketDelta, Counters, LedgerEntry
from .orm import ClosedPeriod, CounterCell, DirtyRanking, ExternalInput, LedgerRow, RankingSnapshot

Cells = dict[tuple[str, str], Counters]
_DAY_MARK = "*day*"
_CHUNK = 500  # rows per multi-row insert: stays under SQLite's bound-parameter limit


class ScoringRepository(abc.ABC):
    @abc.abstractmethod
    def lock_entry(self, dossier_code: str) -> LedgerEntry | None:
        """The dossier's ledger entry, locked until the unit of work ends (even when absent)."""

    @abc.abstractmethod
    def put_entry(self, entry: LedgerEntry) -> None: ...

    @abc.abstractmethod
    def add_deltas(self, deltas: Sequence[BucketDelta]) -> None: ...

    @abc.abstractmethod
    def mark_dirty(self, keys: Iterable[tuple[str, str]]) -> None:
        """(level, period) pairs whose ranking must be recomputed."""

    @abc.abstractmethod
    def first_time_today(self, day: str) -> bool:
        """True for exactly one caller per day, across replicas and restarts."""

    @abc.abstractmethod
    def claim_dirty(self, limit: int) -> list[tuple[str, str, int]]:
        """(level, period, changes) not ranked since their last change; skips rows another
        ranker holds."""

    @abc.abstractmethod
    def set_ranked(self, level: str, period: str, changes: int) -> None: ...

    @abc.abstractmethod
    def counters(self, units: Sequence[str], buckets: Sequence[str]) -> dict[str, Counters]:
        """Per unit, its counters summed over `buckets`."""

    @abc.abstractmethod
    def external(self, units: Sequence[str], period: str) -> dict[str, dict[str, float]]: ...

    @abc.abstractmethod
    def put_external(self, unit_code: str, period: str, values: Mapping[str, float],
                     at: datetime) -> None: ...

    @abc.abstractmethod
    def last_snapshot(self, scheme: str, level: str, period: str
                      ) -> tuple[int, list[dict[str, Any]]] | None: ...

    @abc.abstractmethod
    def add_snapshot(self, scheme: str, level: str, period: str, version: int,
                     entries: list[dict[str, Any]], at: datetime) -> None: ...

    @abc.abstractmethod
    def closed(self, scheme: str, level: str, period: str) -> list[dict[str, Any]] | None: ...

    @abc.abstractmethod
    def put_closed(self, scheme: str, level: str, period: str,
                   entries: list[dict[str, Any]], at: datetime) -> bool:
        """False when the period was already closed (the first snapshot stays)."""

    @abc.abstractmethod
    def closed_of_scheme(self, scheme: str) -> list[tuple[str, str, list[dict[str, Any]]]]:
        """(level, period, entries) of every closed period of a scheme, by period."""

    @abc.abstractmethod
    def entries_of(self, unit_code: str, first_day: str, last_day: str) -> list[LedgerEntry]:
        """Ledger entries of a unit anchored on days first..last (inclusive), by code."""

    @abc.abstractmethod
    def all_cells(self) -> Cells: ...

    @abc.abstractmethod
    def replace_all(self, entries: Iterable[LedgerEntry], cells: Cells) -> None:
        """Drop the ledger and counters and store these instead (replay)."""


class SqlScoringRepository(ScoringRepository):
    def __init__(self, session: Session) -> None:
        self.session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self._postgres else sqlite.insert)(table)

    def lock_entry(self, dossier_code: str) -> LedgerEntry | None:
        query = select(LedgerRow).where(LedgerRow.dossier_code == dossier_code)
        if self._postgres:
            # A placeholder row gives two replicas racing on a new dossier a row to queue on;
            # version 0 reads as "no entry" and rolls back with a failed unit of work.
            self.session.execute(self._insert(LedgerRow).values(
                dossier_code=dossier_code, version=0, unit_code="", anchor_day=None, buckets=[],
                contribution={}).on_conflict_do_nothing())
            query = query.with_for_update()
        row = self.session.scalars(query).one_or_none()
        if row is None or row.version == 0:
            return None
        return LedgerEntry.from_row({"dossier_code": row.dossier_code, "version": row.version,
                                     "unit_code": row.unit_code, "buckets": row.buckets,
                                     "contribution": row.contribution})

    def put_entry(self, entry: LedgerEntry) -> None:
        values = {**entry.to_row(), "anchor_day": entry.buckets[0] if entry.buckets else None}
        stmt = self._insert(LedgerRow).values(**values)
        self.session.execute(stmt.on_conflict_do_update(
            index_elements=["dossier_code"],
            set_={k: stmt.excluded[k] for k in values if k != "dossier_code"}))

    def add_deltas(self, deltas: Sequence[BucketDelta]) -> None:
        rows = sorted((d.unit_code, d.bucket, name, n)
                      for d in deltas for name, n in d.changes.items() if n)
        for start in range(0, len(rows), _CHUNK):
            stmt = self._insert(CounterCell).values(
                [{"unit_code": u, "bucket": b, "name": name, "value": n}
                 for u, b, name, n in rows[start:start + _CHUNK]])
            self.session.execute(stmt.on_conflict_do_update(
                index_elements=["unit_code", "bucket", "name"],
                set_={"value": CounterCell.value + stmt.excluded.value}))

    def mark_dirty(self, keys: Iterable[tuple[str, str]]) -> None:
        for level, period in sorted(set(keys)):
            stmt = self._insert(DirtyRanking).values(level=level, period=period, changes=1,
                                                     ranked=0)
            self.session.execute(stmt.on_conflict_do_update(
                index_elements=["level", "period"],
                set_={"changes": DirtyRanking.changes + 1}))

    def first_time_today(self, day: str) -> bool:
        # A row that never looks dirty (changes == ranked) records that the day was seen.
        stmt = self._insert(DirtyRanking).values(level=_DAY_MARK, period=day, changes=0,
                                                 ranked=0)
        result: Any = self.session.execute(stmt.on_conflict_do_nothing())
        return bool(result.rowcount)

    def claim_dirty(self, limit: int) -> list[tuple[str, str, int]]:
        query = (select(DirtyRanking).where(DirtyRanking.changes != DirtyRanking.ranked)
                 .order_by(DirtyRanking.level, DirtyRanking.period).limit(limit))
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        return [(r.level, r.period, r.changes) for r in self.session.scalars(query)]

    def set_ranked(self, level: str, period: str, changes: int) -> None:
        self.session.execute(update(DirtyRanking).where(
            DirtyRanking.level == level, DirtyRanking.period == period).values(ranked=changes))

    def counters(self, units: Sequence[str], buckets: Sequence[str]) -> dict[str, Counters]:
        out: dict[str, Counters] = {u: Counters() for u in units}
        if not units or not buckets:
            return out
        query = select(CounterCell.unit_code, CounterCell.name, CounterCell.value).where(
            CounterCell.unit_code.in_(list(units)), CounterCell.bucket.in_(list(buckets)))
        for unit, name, value in self.session.execute(query):
            out[unit].add({name: value})
        return out

    def external(self, units: Sequence[str], period: str) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {u: {} for u in units}
        query = select(ExternalInput).where(ExternalInput.unit_code.in_(list(units)),
                                            ExternalInput.period == period)
        for row in self.session.scalars(query):
            out[row.unit_code][row.key] = row.value
        return out

    def put_external(self, unit_code: str, period: str, values: Mapping[str, float],
                     at: datetime) -> None:
        for key, value in sorted(values.items()):
            stmt = self._insert(ExternalInput).values(unit_code=unit_code, period=period,
                                                      key=key, value=value, submitted_at=at)
            self.session.execute(stmt.on_conflict_do_update(
                index_elements=["unit_code", "period", "key"],
                set_={"value": stmt.excluded.value, "submitted_at": stmt.excluded.submitted_at}))

    def last_snapshot(self, scheme: str, level: str, period: str
                      ) -> tuple[int, list[dict[str, Any]]] | None:
        row = self.session.scalars(
            select(RankingSnapshot).where(RankingSnapshot.scheme == scheme,
                                          RankingSnapshot.level == level,
                                          RankingSnapshot.period == period)
            .order_by(RankingSnapshot.version.desc()).limit(1)).one_or_none()
        return None if row is None else (row.version, list(row.entries))

    def add_snapshot(self, scheme: str, level: str, period: str, version: int,
                     entries: list[dict[str, Any]], at: datetime) -> None:
        self.session.add(RankingSnapshot(scheme=scheme, level=level, period=period,
                                         version=version, entries=entries, published_at=at))
        self.session.flush()

    def closed(self, scheme: str, level: str, period: str) -> list[dict[str, Any]] | None:
        row = self.session.get(ClosedPeriod, (scheme, level, period))
        return None if row is None else list(row.entries)

    def put_closed(self, scheme: str, level: str, period: str,
                   entries: list[dict[str, Any]], at: datetime) -> bool:
        stmt = self._insert(ClosedPeriod).values(scheme=scheme, level=level, period=period,
                                                 entries=entries, closed_at=at)
        result: Any = self.session.execute(stmt.on_conflict_do_nothing())
        return bool(result.rowcount)

    def closed_of_scheme(self, scheme: str) -> list[tuple[str, str, list[dict[str, Any]]]]:
        query = select(ClosedPeriod).where(ClosedPeriod.scheme == scheme).order_by(
            ClosedPeriod.period, ClosedPeriod.level)
        return [(r.level, r.period, list(r.entries)) for r in self.session.scalars(query)]

    def entries_of(self, unit_code: str, first_day: str, last_day: str) -> list[LedgerEntry]:
        query = select(LedgerRow).where(
            LedgerRow.unit_code == unit_code, LedgerRow.anchor_day >= first_day,
            LedgerRow.anchor_day <= last_day, LedgerRow.version > 0,
        ).order_by(LedgerRow.dossier_code)
        return [LedgerEntry(r.dossier_code, r.version, r.unit_code, tuple(r.buckets),
                            dict(r.contribution)) for r in self.session.scalars(query)]

    def all_cells(self) -> Cells:
        out: Cells = {}
        for row in self.session.scalars(select(CounterCell)):
            if row.value:
                out.setdefault((row.unit_code, row.bucket), Counters())[row.name] = row.value
        return out

    def replace_all(self, entries: Iterable[LedgerEntry], cells: Cells) -> None:
        self.session.execute(delete(CounterCell))
        self.session.execute(delete(LedgerRow))
        for entry in entries:
            self.put_entry(entry)
        self.add_deltas([BucketDelta(unit, bucket, dict(c))
                         for (unit, bucket), c in sorted(cells.items())])
