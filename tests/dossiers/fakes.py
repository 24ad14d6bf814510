"""In-memory stand-ins for the dossiers service's database: the repository port and the unit of
work, subclassing the real classes so the handlers cannot tell the difference.

The fake unit of work is transactional like the real one: what a block did is kept only if it
committed (dossiers, processed message ids, quarantined items, outbox rows, events).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from services.common.tables import OutboxMessage, QuarantinedMessage
from services.contracts.base import Event
from services.dossiers.adapters.repository import Derived, DossierRepository
from services.dossiers.adapters.uow import DossiersUnitOfWork
from services.dossiers.domain.dossier import Dossier

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass
class StoredDossier:
    dossier: Dossier
    derived: Derived
    updated_at: datetime
    due_soon_notified: bool = False
    overdue_notified: bool = False


class FakeDossierRepository(DossierRepository):
    """The repository port over a dict. Dossiers go in and out as copies, as they would through
    a database, so a handler's later changes to its object are not silently stored."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredDossier] = {}
        self.crossings: dict[tuple[str, str], datetime] = {}

    def get(self, code: str) -> Dossier | None:
        row = self.rows.get(code)
        return copy.deepcopy(row.dossier) if row is not None else None

    def save(self, dossier: Dossier, derived: Derived, now: datetime) -> None:
        row = self.rows.get(dossier.code)
        if row is None:
            self.rows[dossier.code] = StoredDossier(copy.deepcopy(dossier), derived, now)
            return
        row.dossier, row.derived, row.updated_at = copy.deepcopy(dossier), derived, now

    def claim_due(self, now: datetime, limit: int) -> list[Dossier]:
        def due(row: StoredDossier) -> bool:
            d = row.derived
            soon = not row.due_soon_notified and d.due_soon_at is not None and d.due_soon_at <= now
            late = not row.overdue_notified and d.due_at is not None and d.due_at <= now
            return not d.closed and not d.paused and (soon or late)

        found = sorted((r for r in self.rows.values() if due(r)),
                       key=lambda r: r.derived.due_soon_at or _FAR_FUTURE)
        return [copy.deepcopy(r.dossier) for r in found[:limit]]

    def record_crossing(self, code: str, kind: str, at: datetime) -> bool:
        if (code, kind) in self.crossings:
            return False
        row = self.rows[code]  # as in SQL: a crossing is only recorded for a saved dossier
        self.crossings[(code, kind)] = at
        if kind == "overdue":
            row.overdue_notified = row.due_soon_notified = True
        else:
            row.due_soon_notified = True
        return True

    def list_by_state(self, unit_code: str | None, state: str, limit: int,
                      offset: int) -> list[Dossier]:
        found = [r for r in self.rows.values()
                 if r.derived.deadline_state == state and not r.derived.closed
                 and (not unit_code or r.dossier.unit_code == unit_code)]
        # PostgreSQL's order: no due date sorts last.
        found.sort(key=lambda r: (r.derived.due_at or _FAR_FUTURE, r.dossier.code))
        return [copy.deepcopy(r.dossier) for r in found[offset:offset + limit]]

    def count_open(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for r in self.rows.values():
            if not r.derived.closed and r.derived.deadline_state is not None:
                key = (r.dossier.unit_code, r.derived.deadline_state)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def page_after(self, after_code: str | None, limit: int) -> list[Dossier]:
        codes = sorted(c for c in self.rows if after_code is None or c > after_code)
        return [copy.deepcopy(self.rows[c].dossier) for c in codes[:limit]]

    def state(self) -> Any:
        return copy.deepcopy((self.rows, self.crossings))

    def restore(self, state: Any) -> None:
        self.rows, self.crossings = copy.deepcopy(state)


class FakeUnitOfWork(DossiersUnitOfWork):
    """`with uow: ...; uow.commit()` over memory. Committed events collect in `committed`,
    quarantined items (as the row's fields) in `quarantined`, processed message ids in
    `processed`, outbox rows in `outbox`."""

    def __init__(self, repository: FakeDossierRepository | None = None) -> None:
        # Deliberately no super().__init__: there are no sessions to keep.
        self.repo = repository or FakeDossierRepository()
        self.dossiers = self.repo
        self.events: list[Event] = []
        self.committed: list[Event] = []
        self.last_committed: list[Event] = []
        self.quarantined: list[dict[str, Any]] = []
        self.processed: set[tuple[str, str]] = set()
        self.outbox: list[OutboxMessage] = []
        self.commits = 0
        self._ids = itertools.count(1)
        self._begin()

    def _begin(self) -> None:
        self._saved = self.repo.state()
        self._claimed: set[tuple[str, str]] = set()
        self._quarantined: list[dict[str, Any]] = []
        self._outbox: list[OutboxMessage] = []
        self.events = []
        self._event_headers: list[dict[str, str]] = []
        self._headers: dict[str, str] = {}

    def __enter__(self) -> FakeUnitOfWork:
        self._begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.rollback()

    def claim_message(self, consumer: str, message_id: str) -> bool:
        key = (consumer, message_id)
        if key in self.processed or key in self._claimed:
            return False
        self._claimed.add(key)
        return True

    def claim_messages(self, consumer: str, message_ids: list[str]) -> set[str]:
        return {m for m in dict.fromkeys(message_ids) if self.claim_message(consumer, m)}

    def quarantine(self, **fields: Any) -> QuarantinedMessage:
        row = QuarantinedMessage(id=next(self._ids), received_at=datetime.now(UTC),
                                 state="open", **fields)
        self._quarantined.append({"id": row.id, **fields})
        return row

    def add_outbox(self, row: OutboxMessage) -> None:
        self._outbox.append(row)

    def commit(self) -> None:
        self.committed.extend(self.events)
        self.last_committed = list(self.events)
        self.processed |= self._claimed
        self.quarantined.extend(self._quarantined)
        self.outbox.extend(self._outbox)
        self.commits += 1
        self._begin()

    def rollback(self) -> None:
        self.repo.restore(self._saved)
        self._begin()

    def take(self) -> list[Event]:
        """The events committed since the last call."""
        taken, self.committed = self.committed, []
        return taken
