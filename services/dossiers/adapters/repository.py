"""Dossier persistence: the port the handlers use, and its SQLAlchemy adapter."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
    @abc.abstractmethod
    def get(self, code: str) -> Dossier | None:
        """The dossier, locked for update until the unit of work ends."""

    @abc.abstractmethod
    def save(self, dossier: Dossier, derived: Derived, now: datetime) -> None: ...

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


class SqlDossierRepository(DossierRepository):
    def __init__(self, session: Session) -> None:
        self.session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self._rows: dict[str, DossierRow] = {}

    def _load(self, row: DossierRow) -> Dossier:
        self._rows[row.code] = row
        return to_domain(row)

    def get(self, code: str) -> Dossier | None:
        query = select(DossierRow).where(DossierRow.code == code)
        if self._postgres:
            query = query.with_for_update()
        row = self.session.scalars(query).one_or_none()
        return self._load(row) if row is not None else None

    def save(self, dossier: Dossier, derived: Derived, now: datetime) -> None:
        row = self._rows.get(dossier.code)
        if row is None:
            row = DossierRow(code=dossier.code, due_soon_notified=False, overdue_notified=False)
            self.session.add(row)
            self._rows[dossier.code] = row
        row.version = dossier.version
        row.unit_code = dossier.unit_code
        row.procedure_code = dossier.procedure_code
        row.status = dossier.status
        row.history = [[e.status, e.at.isoformat()] for e in dossier.history]
        row.facts = {k: (v.isoformat() if isinstance(v, datetime) else v)
                     for k, v in dossier.facts.items()}
        row.facts[STATED_AT] = {k: v.isoformat() for k, v in dossier.stated_at.items()}
        row.supplements = [[p.start.isoformat(), p.end.isoformat() if p.end else None]
                           for p in dossier.supplements]
        row.personal = dict(dossier.personal)
        row.closed = derived.closed
        row.paused = derived.paused
        row.deadline_state = derived.deadline_state
        row.outcome = derived.outcome
        row.due_at = derived.due_at
        row.due_soon_at = derived.due_soon_at
        row.updated_at = now
        self.session.flush()

    def claim_due(self, now: datetime, limit: int) -> list[Dossier]:
        query = (
            select(DossierRow)
            .where(
                DossierRow.closed.is_(False),
                # A paused dossier's state changes only with a report, never with time: left
                # in, it would be claimed by every sweep (first, on SQLite) and crowd out others.
                DossierRow.paused.is_(False),
                or_(
                    and_(DossierRow.due_soon_notified.is_(False), DossierRow.due_soon_at <= now),
                    and_(DossierRow.overdue_notified.is_(False), DossierRow.due_at <= now),
                ),
            )
            .order_by(DossierRow.due_soon_at)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        return [self._load(row) for row in self.session.scalars(query)]

    def record_crossing(self, code: str, kind: str, at: datetime) -> bool:
        if self.session.get(SlaCrossing, (code, kind)) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(SlaCrossing(dossier_code=code, kind=kind, crossed_at=at))
        except IntegrityError:
            return False
        flag = {"due_soon": DossierRow.due_soon_notified, "overdue": DossierRow.overdue_notified}
        row = self._rows.get(code) or self.session.scalars(
            select(DossierRow).where(DossierRow.code == code)).one()
        setattr(row, flag[kind].key, True)
        if kind == "overdue":
            row.due_soon_notified = True
        return True

    def list_by_state(self, unit_code: str | None, state: str, limit: int,
                      offset: int) -> list[Dossier]:
        query = select(DossierRow).where(DossierRow.deadline_state == state,
                                         DossierRow.closed.is_(False))
        if unit_code:
            query = query.where(DossierRow.unit_code == unit_code)
        query = query.order_by(DossierRow.due_at, DossierRow.code).limit(limit).offset(offset)
        return [to_domain(row) for row in self.session.scalars(query)]


    def count_open(self) -> dict[tuple[str, str], int]:
        rows = self.session.execute(
            select(DossierRow.unit_code, DossierRow.deadline_state, func.count())
            .where(DossierRow.closed.is_(False), DossierRow.deadline_state.is_not(None))
            .group_by(DossierRow.unit_code, DossierRow.deadline_state))
        return {(unit, str(state)): int(n) for unit, state, n in rows}

    def page_after(self, after_code: str | None, limit: int) -> list[Dossier]:
        query = select(DossierRow).order_by(DossierRow.code).limit(limit)
        if after_code is not None:
            query = query.where(DossierRow.code > after_code)
        return [to_domain(row) for row in self.session.scalars(query)]


def _dt(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_domain(row: DossierRow) -> Dossier:
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
