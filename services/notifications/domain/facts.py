"""What the rules need to know about an event, in plain dataclasses.

The service turns contract events into these; `DossierFacts.from_snapshot` reads any object
with the `DossierSnapshot` attribute names, so the domain never imports pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

CLOSED_STATUSES = frozenset({3, 7, 9, 10})  # refused, withdrawn, decided, returned


@dataclass(frozen=True)
class DossierFacts:
    """A dossier's non-personal state. There is deliberately no field for the applicant."""

    unit_code: str
    dossier_code: str
    procedure_code: str | None = None
    status: int | None = None
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: str | None = None  # "early" | "on_time" | "late"
    deadline_state: str | None = None  # "within" | "due_soon" | "overdue" | ...
    supplement_count: int = 0
    apology_issued_at: datetime | None = None
    remaining_working_minutes: int | None = None

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @classmethod
    def from_snapshot(cls, snapshot: Any, *, outcome: str | None = None,
                      remaining_working_minutes: int | None = None) -> DossierFacts:
        """From a `DossierSnapshot` (or anything with its attribute names).

        `outcome` and `remaining_working_minutes` come from the event when it carries them.
        """
        status = getattr(snapshot, "status", None)
        snap_outcome = getattr(snapshot, "outcome", None)
        state = getattr(snapshot, "deadline_state", None)
        return cls(
            unit_code=snapshot.unit_code,
            dossier_code=snapshot.dossier_code,
            procedure_code=getattr(snapshot, "procedure_code", None),
            status=int(status) if status is not None else None,
            accepted_at=getattr(snapshot, "accepted_at", None),
            due_at=getattr(snapshot, "due_at", None),
            completed_at=getattr(snapshot, "completed_at", None),
            outcome=_text(outcome if outcome is not None else snap_outcome),
            deadline_state=_text(state),
            supplement_count=int(getattr(snapshot, "supplement_count", 0) or 0),
            apology_issued_at=getattr(snapshot, "apology_issued_at", None),
            remaining_working_minutes=remaining_working_minutes,
        )


@dataclass(frozen=True)
class QuarantineFacts:
    """Inbound input the dossiers service could not apply (for integrators)."""

    quarantine_id: int
    source_format: str
    reason: str
    unit_code: str | None = None


@dataclass(frozen=True)
class DeadLetterFacts:
    """A message parked in a dead-letter queue after its delivery limit (for operators)."""

    queue: str
    message_id: str
    event_type: str | None = None
    reason: str | None = None
    delivery_count: int | None = None


Facts = DossierFacts | QuarantineFacts | DeadLetterFacts


def _text(value: Any) -> str | None:
    # StrEnum members are str already; `.value` keeps the plain string for equality and JSON.
    return None if value is None else str(getattr(value, "value", value))
