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

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.common.db import table_of, upsert_many

from ..domain.counters import BucketDelta, Counters, LedgerEntry
from .orm import ClosedPeriod, CounterCell, DirtyRanking, ExternalInput, LedgerRow, RankingSnapshot

Cells = dict[tuple[str, str], Counters]
_LEDGER = table_of(LedgerRow)
_COUNTERS = table_of(CounterCell)
_DIRTY = table_of(DirtyRanking)
_SNAPSHOTS = table_of(RankingSnapshot)
# Seed of the ranker's advisory lock keys (one per kind of period): any fixed 64-bit number.
_RANKER_LOCK = 0x7061727075_6C7365
_DAY_MARK = "*day*"


class ScoringRepository(abc.ABC):
    @abc.abstractmethod
    def lock_entry(self, dossier_code: str) -> LedgerEntry | None:
        """The dossier's ledger entry, locked until the unit of work ends (even when absent)."""

    @abc.abstractmethod
    def lock_entries(self, dossier_codes: Iterable[str]) -> dict[str, LedgerEntry | None]:
        """`lock_entry` for a batch of dossiers at once, locked in code order."""

    @abc.abstractmethod
    def put_entry(self, entry: LedgerEntry) -> None: ...

    @abc.abstractmethod
    def put_entries(self, entries: Iterable[LedgerEntry]) -> None: ...

    @abc.abstractmethod
    def add_deltas(self, deltas: Sequence[BucketDelta]) -> None: ...

    @abc.abstractmethod
    def mark_dirty(self, keys: Iterable[tuple[str, str]]) -> None:
        """(level, period) pairs whose ranking must be recomputed."""

    @abc.abstractmethod
    def touch_all(self) -> None:
        """One more change for every (level, period) seen (after a replay)."""

    @abc.abstractmethod
    def lock_ranker(self, kind: str) -> bool:
        """True for one caller at a time per kind of period (across replicas and passes) until
        its unit of work ends."""

    @abc.abstractmethod
    def pass_state(self) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str], int],
                                  set[tuple[str, str, str]]]:
        """In three queries, what a ranking pass checks its cache against: the last published
        version of every ranking, the change count of every (level, period), and the closed
        (scheme, level, period) keys."""

    @abc.abstractmethod
    def first_time_today(self, day: str) -> bool:
        """True for exactly one caller per day, across replicas and restarts."""

    @abc.abstractmethod
    def claim_dirty(self, limit: int) -> list[tuple[str, str, int]]:
        """(level, period, changes) not ranked since their last change (the ranker holds
        `lock_ranker`, so nothing is locked here)."""

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
        return self.lock_entries([dossier_code])[dossier_code]

    def lock_entries(self, dossier_codes: Iterable[str]) -> dict[str, LedgerEntry | None]:
        codes = sorted(set(dossier_codes))
        found: dict[str, LedgerEntry | None] = dict.fromkeys(codes)
        if not codes:
            return found
        query = select(_LEDGER).where(_LEDGER.c.dossier_code.in_(codes)).order_by(
            _LEDGER.c.dossier_code)
        if self._postgres:
            # Placeholder rows give two replicas racing on a new dossier a row to queue on;
            # version 0 reads as "no entry" and rolls back with a failed unit of work.
            upsert_many(self.session, self._insert(_LEDGER).on_conflict_do_nothing(), [
                {"dossier_code": c, "version": 0, "unit_code": "", "anchor_day": None,
                 "buckets": [], "contribution": {}} for c in codes], _LEDGER.c.dossier_code)
            query = query.with_for_update()
        for row in self.session.execute(query):
            if row.version:
                found[row.dossier_code] = LedgerEntry(
                    row.dossier_code, row.version, row.unit_code, tuple(row.buckets),
                    dict(row.contribution))
        return found

    def put_entry(self, entry: LedgerEntry) -> None:
        self.put_entries([entry])

    def put_entries(self, entries: Iterable[LedgerEntry]) -> None:
        rows = [{**e.to_row(), "anchor_day": e.buckets[0] if e.buckets else None}
                for e in sorted(entries, key=lambda e: e.dossier_code)]
        if not rows:
            return
        stmt = self._insert(_LEDGER)
        upsert_many(self.session, stmt.on_conflict_do_update(
            index_elements=["dossier_code"],
            set_={k: stmt.excluded[k] for k in rows[0] if k != "dossier_code"}), rows,
            _LEDGER.c.dossier_code)

    def add_deltas(self, deltas: Sequence[BucketDelta]) -> None:
        # One row per cell (a statement may not update a row twice), in key order.
        summed: dict[tuple[str, str, str], int] = {}
        for d in deltas:
            for name, n in d.changes.items():
                key = (d.unit_code, d.bucket, name)
                summed[key] = summed.get(key, 0) + n
        rows = [{"unit_code": u, "bucket": b, "name": name, "value": n}
                for (u, b, name), n in sorted(summed.items()) if n]
        if not rows:
            return
        stmt = self._insert(_COUNTERS)
        upsert_many(self.session, stmt.on_conflict_do_update(
            index_elements=["unit_code", "bucket", "name"],
            set_={"value": _COUNTERS.c.value + stmt.excluded.value}), rows, _COUNTERS.c.id)

    def mark_dirty(self, keys: Iterable[tuple[str, str]]) -> None:
        rows = [{"level": level, "period": period, "changes": 1, "ranked": 0}
                for level, period in sorted(set(keys))]
        if not rows:
            return
        stmt = self._insert(_DIRTY)
        upsert_many(self.session, stmt.on_conflict_do_update(
            index_elements=["level", "period"], set_={"changes": _DIRTY.c.changes + 1}), rows,
            _DIRTY.c.level)

    def touch_all(self) -> None:
        self.session.execute(update(_DIRTY).where(_DIRTY.c.level != _DAY_MARK).values(
            changes=_DIRTY.c.changes + 1))

    def lock_ranker(self, kind: str) -> bool:
        if not self._postgres:
            return True  # SQLite: one writer at a time anyway
        return bool(self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtextextended(:kind, :seed))"),
            {"kind": kind, "seed": _RANKER_LOCK}))

    def pass_state(self) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str], int],
                                  set[tuple[str, str, str]]]:
        s, d, c = _SNAPSHOTS.c, _DIRTY.c, table_of(ClosedPeriod).c
        versions = {(scheme, level, period): int(v) for scheme, level, period, v in
                    self.session.execute(select(s.scheme, s.level, s.period, func.max(s.version))
                                         .group_by(s.scheme, s.level, s.period))}
        changes = {(level, period): int(n) for level, period, n in self.session.execute(
            select(d.level, d.period, d.changes).where(d.level != _DAY_MARK))}
        closed = {(scheme, level, period) for scheme, level, period in
                  self.session.execute(select(c.scheme, c.level, c.period))}
        return versions, changes, closed

    def first_time_today(self, day: str) -> bool:
        # A row that never looks dirty (changes == ranked) records that the day was seen.
        stmt = self._insert(DirtyRanking).values(level=_DAY_MARK, period=day, changes=0,
                                                 ranked=0)
        result: Any = self.session.execute(stmt.on_conflict_do_nothing())
        return bool(result.rowcount)

    def claim_dirty(self, limit: int) -> list[tuple[str, str, int]]:
        d = _DIRTY.c
        query = (select(d.level, d.period, d.changes).where(d.changes != d.ranked)
                 .order_by(d.level, d.period).limit(limit))
        return [(level, period, int(n)) for level, period, n in self.session.execute(query)]

    def set_ranked(self, level: str, period: str, changes: int) -> None:
        self.session.execute(update(DirtyRanking).where(
            DirtyRanking.level == level, DirtyRanking.period == period).values(ranked=changes))

    def counters(self, units: Sequence[str], buckets: Sequence[str]) -> dict[str, Counters]:
        out: dict[str, Counters] = {u: Counters() for u in units}
        if not units or not buckets:
            return out
        c = _COUNTERS.c
        where = (c.unit_code.in_(list(units)), c.bucket.in_(list(buckets)))
        if len(buckets) == 1:
            query = select(c.unit_code, c.name, c.value).where(*where)
        else:  # a rolling window: the database sums its days
            query = select(c.unit_code, c.name, func.sum(c.value)).where(*where).group_by(
                c.unit_code, c.name)
        for unit, name, value in self.session.execute(query):
            if value:
                out[unit][name] = int(value)
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
        # Only the latest snapshot is ever read (to compare the next ranking with): older ones
        # go, or a busy province would store a ranking per level and period every second.
        s = _SNAPSHOTS.c
        self.session.execute(insert(_SNAPSHOTS).values(
            scheme=scheme, level=level, period=period, version=version, entries=entries,
            published_at=at))
        self.session.execute(delete(_SNAPSHOTS).where(
            s.scheme == scheme, s.level == level, s.period == period, s.version < version))

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
