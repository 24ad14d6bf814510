"""Which domain events a change produces: a pure comparison of the dossier before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Change(StrEnum):
    ACCEPTED = "accepted"
    STATUS_CHANGED = "status_changed"
    PAUSED = "paused"
    RESUMED = "resumed"
    COMPLETED = "completed"
    APOLOGY_ISSUED = "apology_issued"
    REVISED = "revised"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Summary:
    status: int
    accepted_at: datetime | None
    paused: bool
    completed: bool
    apology_issued: bool


def changes(before: Summary | None, after: Summary) -> list[Change]:
    """Events for a dossier whose version just grew; never empty (REVISED when nothing else)."""
    found: list[Change] = []
    if after.accepted_at is not None and (before is None or before.accepted_at is None):
        found.append(Change.ACCEPTED)
    if before is None or before.status != after.status:
        found.append(Change.STATUS_CHANGED)
    was_paused = before.paused if before else False
    if after.paused and not was_paused:
        found.append(Change.PAUSED)
    elif was_paused and not after.paused:
        found.append(Change.RESUMED)
    if after.completed and not (before and before.completed):
        found.append(Change.COMPLETED)
    if after.apology_issued and not (before and before.apology_issued):
        found.append(Change.APOLOGY_ISSUED)
    return found or [Change.REVISED]


def thresholds_crossed(state: str | None, closed: bool) -> list[Change]:
    """The alert thresholds an open dossier in `state` has reached (overdue implies due soon,
    but a dossier found already overdue is only reported overdue)."""
    if closed:
        return []
    if state == "overdue":
        return [Change.OVERDUE]
    if state == "due_soon":
        return [Change.DUE_SOON]
    return []
