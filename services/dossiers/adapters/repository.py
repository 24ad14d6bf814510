"""Dossier persistence: the port the handlers use, and its SQLAlchemy adapter."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from services.common.db import table_of

from ..domain.dossier import Dossier, Entry
from ..domain.sla import Pause
from .orm import DossierRow, SlaCrossing

DATETIME_FACTS = frozenset(
    {"submitted_at", "accepted_at", "source_due_at", "completed_at", "returned_at",
     "apology_new_due_at", "apology_issued_at"}
)
# Kept inside the facts column (no migration needed): when each piece of state was last stated.
STATED_AT = "_stated_at"


@dataclass(frozen=True)
class Derived:
    """What the SLA clock concluded, stored beside the aggregate for queries."""

    closed: bool
    paused: bool
    deadline_state: str | None
    outcome: str | None
    due_at: datetime | None
    due_soon_at: datetime | None


class DossierRepository(abc.ABC):
    def load(self, codes: Iterable[str]) -> None:  # noqa: B027 (optional for an adapter)
        """Read (and lock) every dossier of a batch at once; `get` then answers from memory."""

    @abc.abstractmethod
    def get(self, code: str) -> Dossier | None:
        """The dossier, locked for update until the unit of work ends."""

    @abc.abstractmethod
    def save(self, dossier: Dossier, derived: Derived, now: datetime) -> None:
        """Store the dossier as it is now (later changes to the object are not stored)."""

    def flush(self) -> None:  # noqa: B027 (optional for an adapter)
        """Write what `save` and `record_crossing` kept back; the unit of work calls it before
        it commits."""

    @abc.abstractmethod
    def claim_due(self, now: datetime, limit: int) -> list[Dossier]:
        """Open, unpaused dossiers past a threshold not yet announced, by due-soon time;
        skips rows other sweepers hold."""

    @abc.abstractmethod
    def record_crossing(self, code: str, kind: str, at: datetime) -> bool:
        """True the first time (code, kind) is recorded, False ever after."""

    @abc.abstractmethod
    def list_by_state(self, unit_code: str | None, state: str, limit: int,
                      offset: int) -> list[Dossier]: ...

    @abc.abstractmethod
    def count_open(self) -> dict[tuple[str, str], int]:
        """Open dossiers by (unit code, deadline state)."""

    @abc.abstractmethod
    def page_after(self, after_code: str | None, limit: int) -> list[Dossier]:
        """Dossiers in code order after `after_code`: for exports, in bounded memory."""


_LOCK_CODES = text(
    "SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT hashtextextended(c, 0) AS h "
    "FROM unnest(CAST(:codes AS text[])) AS c ORDER BY 1) AS ordered")
_DOSSIERS = table_of(DossierRow)
_CROSSINGS = table_of(SlaCrossing)


@dataclass
class _Stored:
    """What the database holds of a loaded dossier besides the aggregate."""

    id: int | None  # None until inserted
    due_soon_notified: bool
    overdue_notified: bool


class SqlDossierRepository(DossierRepository):
    """Reads a batch's dossiers in one locking query and writes them back in one or two
    statements at flush: a new dossier is a plain INSERT, a known one an UPDATE by id, both
    under the per-code lock taken when they were read. (On SQLite, whose writers take turns
    anyway, an INSERT racing another process's fails the batch, which is then retried and
    reads the other's row, instead of overwriting it.)"""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self._loaded: dict[str, Dossier | None] = {}
        self._stored: dict[str, _Stored] = {}
        self._crossed: set[tuple[str, str]] = set()
        self._pending: dict[str, dict[str, Any]] = {}
        self._new_crossings: list[dict[str, Any]] = []
        self._flagged: set[str] = set()  # announcement flags changed, to write at flush

    def _select(self) -> Any:
        return select(_DOSSIERS)

    def _remember(self, row: Any) -> Dossier:
        self._stored[row.code] = _Stored(row.id, row.due_soon_notified, row.overdue_notified)
        dossier = to_domain(row)
        self._loaded[row.code] = dossier
        return dossier

    def load(self, codes: Iterable[str]) -> None:
        wanted = sorted(set(codes) - set(self._loaded))
        if not wanted:
            return
        if self._postgres:
            # A lock per dossier code, held to the end of the transaction, taken whether or not
            # the row exists yet: two batches (or replicas) that both carry a new dossier take
            # turns instead of both inserting it. Taken in one order, so they cannot deadlock.
            self.session.execute(_LOCK_CODES, {"codes": wanted})
        query = self._select().where(_DOSSIERS.c.code.in_(wanted)).order_by(_DOSSIERS.c.code)
        if self._postgres:
            query = query.with_for_update()
        for row in self.session.execute(query):
            self._remember(row)
        crossed = select(_CROSSINGS.c.dossier_code, _CROSSINGS.c.kind).where(
            _CROSSINGS.c.dossier_code.in_(wanted))
        self._crossed.update((c, k) for c, k in self.session.execute(crossed))
        for code in wanted:
            self._loaded.setdefault(code, None)

    def get(self, code: str) -> Dossier | None:
        if code not in self._loaded:
            self.load([code])
        dossier = self._loaded[code]
        # A copy: the caller may change it and then decide not to save.
        return dossier.copy() if dossier is not None else None

    def save(self, dossier: Dossier, derived: Derived, now: datetime) -> None:
        stored = self._stored.get(dossier.code)
        if stored is None:
            stored = self._stored[dossier.code] = _Stored(None, False, False)
        self._loaded[dossier.code] = dossier.copy()
        self._pending[dossier.code] = {
            "code": dossier.code, "version": dossier.version, "unit_code": dossier.unit_code,
            "procedure_code": dossier.procedure_code, "status": dossier.status,
            "history": [[e.status, e.at.isoformat()] for e in dossier.history],
            "facts": {**{k: (v.isoformat() if isinstance(v, datetime) else v)
                         for k, v in dossier.facts.items()},
                      STATED_AT: {k: v.isoformat() for k, v in dossier.stated_at.items()}},
            "supplements": [[p.start.isoformat(), p.end.isoformat() if p.end else None]
                            for p in dossier.supplements],
            "personal": dict(dossier.personal),
            "closed": derived.closed, "paused": derived.paused,
            "deadline_state": derived.deadline_state, "outcome": derived.outcome,
            "due_at": derived.due_at, "due_soon_at": derived.due_soon_at, "updated_at": now,
        }

    def flush(self) -> None:
        inserts, updates = [], []
        for code, values in self._pending.items():
            stored = self._stored[code]
            row = {**values, "due_soon_notified": stored.due_soon_notified,
                   "overdue_notified": stored.overdue_notified}
            if stored.id is None:
                inserts.append(row)
            else:
                updates.append({**row, "row_id": stored.id})
        flags_only = [{"row_id": self._stored[c].id,
                       "due_soon_notified": self._stored[c].due_soon_notified,
                       "overdue_notified": self._stored[c].overdue_notified}
                      for c in sorted(self._flagged - set(self._pending))]
        self._pending, self._flagged = {}, set()
        if inserts:
            created = self.session.execute(
                insert(_DOSSIERS).returning(_DOSSIERS.c.id, _DOSSIERS.c.code,
                                            sort_by_parameter_order=True), inserts)
            for row_id, code in created:
                self._stored[code].id = row_id
        if updates:
            self.session.execute(
                update(_DOSSIERS).where(_DOSSIERS.c.id == bindparam("row_id"))
                .values({c: bindparam(c) for c in updates[0] if c not in ("row_id", "code")}),
                updates)
        if flags_only:
            self.session.execute(
                update(_DOSSIERS).where(_DOSSIERS.c.id == bindparam("row_id")).values(
                    due_soon_notified=bindparam("due_soon_notified"),
                    overdue_notified=bindparam("overdue_notified")), flags_only)
        if self._new_crossings:
            self.session.execute(insert(_CROSSINGS), self._new_crossings)
            self._new_crossings = []

    def claim_due(self, now: datetime, limit: int) -> list[Dossier]:
        c = _DOSSIERS.c
        query = (
            self._select()
            .where(
                c.closed.is_(False),
                # A paused dossier's state changes only with a report, never with time: left
                # in, it would be claimed by every sweep (first, on SQLite) and crowd out others.
                c.paused.is_(False),
                or_(
                    and_(c.due_soon_notified.is_(False), c.due_soon_at <= now),
                    and_(c.overdue_notified.is_(False), c.due_at <= now),
                ),
            )
            .order_by(c.due_soon_at)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        claimed = [self._remember(row).copy() for row in self.session.execute(query)]
        codes = [d.code for d in claimed]
        if codes:
            crossed = select(_CROSSINGS.c.dossier_code, _CROSSINGS.c.kind).where(
                _CROSSINGS.c.dossier_code.in_(codes))
            self._crossed.update((code, k) for code, k in self.session.execute(crossed))
        return claimed

    def record_crossing(self, code: str, kind: str, at: datetime) -> bool:
        if code not in self._loaded:
            self.load([code])
        if (code, kind) in self._crossed:
            return False
        self._crossed.add((code, kind))
        self._new_crossings.append({"dossier_code": code, "kind": kind, "crossed_at": at})
        stored = self._stored[code]  # as ever: a crossing is only recorded for a saved dossier
        stored.due_soon_notified = True  # an overdue announcement covers due soon
        if kind == "overdue":
            stored.overdue_notified = True
        self._flagged.add(code)
        return True

    def list_by_state(self, unit_code: str | None, state: str, limit: int,
                      offset: int) -> list[Dossier]:
        c = _DOSSIERS.c
        query = self._select().where(c.deadline_state == state, c.closed.is_(False))
        if unit_code:
            query = query.where(c.unit_code == unit_code)
        query = query.order_by(c.due_at, c.code).limit(limit).offset(offset)
        return [to_domain(row) for row in self.session.execute(query)]

    def count_open(self) -> dict[tuple[str, str], int]:
        c = _DOSSIERS.c
        rows = self.session.execute(
            select(c.unit_code, c.deadline_state, func.count())
            .where(c.closed.is_(False), c.deadline_state.is_not(None))
            .group_by(c.unit_code, c.deadline_state))
        return {(unit, str(state)): int(n) for unit, state, n in rows}

    def page_after(self, after_code: str | None, limit: int) -> list[Dossier]:
        query = self._select().order_by(_DOSSIERS.c.code).limit(limit)
        if after_code is not None:
            query = query.where(_DOSSIERS.c.code > after_code)
        return [to_domain(row) for row in self.session.execute(query)]


def _dt(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_domain(row: Any) -> Dossier:
    stored = dict(row.facts or {})
    stated_at = {k: _dt(v) for k, v in (stored.pop(STATED_AT, None) or {}).items()}
    facts: dict[str, Any] = {
        k: (_dt(v) if k in DATETIME_FACTS and isinstance(v, str) else v)
        for k, v in stored.items()
    }
    return Dossier(
        code=row.code,
        unit_code=row.unit_code,
        procedure_code=row.procedure_code,
        version=row.version,
        history=[Entry(int(s), _dt(at)) for s, at in row.history],
        facts=facts,
        supplements=tuple(Pause(_dt(s), _dt(e) if e else None) for s, e in row.supplements),
        personal=dict(row.personal or {}),
        stated_at=stated_at,
    )
