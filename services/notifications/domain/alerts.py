"""Alerts: which events raise which alert, and the alert lifecycle.

An alert's key is unique per (kind, dossier, threshold), so a redelivered event or a second
replica deciding the same thing produces the same key and the store keeps one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from .facts import DeadLetterFacts, DossierFacts, Facts, QuarantineFacts
from .masking import scrub

# Event kinds as the contracts name them (the domain may not import the pydantic contracts).
DUE_SOON = "dossier.due_soon"
OVERDUE = "dossier.overdue"
COMPLETED = "dossier.completed"
APOLOGY_ISSUED = "dossier.apology_issued"
STATUS_CHANGED = "dossier.status_changed"
QUARANTINED = "inbound.quarantined"
DEAD_LETTERED = "message.dead_lettered"  # read from a DLQ, not a contract event

PROVINCE = "province"  # the unit code of province-wide alerts (operations centre)

Detail = str | int | bool | None


class AlertKind(StrEnum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    COMPLETED_LATE = "completed_late"
    MULTIPLE_SUPPLEMENTS = "multiple_supplements"
    QUARANTINED_INPUT = "quarantined_input"
    DEAD_LETTERED = "dead_lettered"


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# Alerts that stop making sense once the dossier is closed.
RESOLVED_BY_COMPLETION = frozenset(
    {AlertKind.DUE_SOON, AlertKind.OVERDUE, AlertKind.MULTIPLE_SUPPLEMENTS}
)
# Alerts about a late dossier: an apology letter is owed until one is issued.
APOLOGY_KINDS = frozenset({AlertKind.OVERDUE, AlertKind.COMPLETED_LATE})


class InvalidTransition(ValueError):
    """An alert was asked to move to a state it cannot reach from where it is."""


@dataclass(frozen=True)
class Alert:
    key: str
    kind: AlertKind
    unit_code: str
    dossier_code: str | None
    state: AlertState
    raised_at: datetime
    details: dict[str, Detail] = field(default_factory=dict)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    apology_issued_at: datetime | None = None
    escalated_at: datetime | None = None
    reminded_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.state is not AlertState.RESOLVED

    @property
    def owes_apology(self) -> bool:
        return self.kind in APOLOGY_KINDS and self.apology_issued_at is None


def alert_key(kind: AlertKind | str, dossier_code: str | None, threshold: object) -> str:
    """`<kind>:<dossier or ->:<threshold>`, e.g. `overdue:H99.01-251008-0001:2025-10-10T17:00`."""
    return f"{AlertKind(kind).value}:{dossier_code or '-'}:{threshold}"


def decide_alerts(event_kind: str, facts: Facts, now: datetime) -> list[Alert]:
    """The alerts an event raises. The caller inserts them by key, ignoring existing ones."""
    if isinstance(facts, QuarantineFacts):
        return [_quarantined(facts, now)] if event_kind == QUARANTINED else []
    if isinstance(facts, DeadLetterFacts):
        return [_dead_lettered(facts, now)] if event_kind == DEAD_LETTERED else []
    return _dossier_alerts(event_kind, facts, now)


def _dossier_alerts(event_kind: str, f: DossierFacts, now: datetime) -> list[Alert]:
    out: list[Alert] = []
    due = _iso(f.due_at) or "none"

    def details(**extra: Detail) -> dict[str, Detail]:
        return {"procedure_code": f.procedure_code, "due_at": _iso(f.due_at), **extra}

    if event_kind == DUE_SOON and not f.closed:
        out.append(_new(AlertKind.DUE_SOON, f, due, now,
                        details(remaining_working_minutes=f.remaining_working_minutes)))
    elif event_kind == OVERDUE and not f.closed:
        out.append(_new(AlertKind.OVERDUE, f, due, now, details(), f.apology_issued_at))
    elif event_kind == COMPLETED and f.outcome == "late":
        extra = details(completed_at=_iso(f.completed_at), supplement_count=f.supplement_count)
        out.append(_new(AlertKind.COMPLETED_LATE, f, "completed", now, extra,
                        f.apology_issued_at))
    # More than one supplement request makes a dossier late whatever the dates: say so once.
    if f.supplement_count > 1 and not f.closed:
        out.append(_new(AlertKind.MULTIPLE_SUPPLEMENTS, f, 2, now,
                        details(supplement_count=f.supplement_count)))
    return out


def _new(kind: AlertKind, f: DossierFacts, threshold: object, now: datetime,
         details: dict[str, Detail], apology_at: datetime | None = None) -> Alert:
    return Alert(alert_key(kind, f.dossier_code, threshold), kind, f.unit_code, f.dossier_code,
                 AlertState.OPEN, now, details, apology_issued_at=apology_at)


def _quarantined(f: QuarantineFacts, now: datetime) -> Alert:
    kind = AlertKind.QUARANTINED_INPUT
    details: dict[str, Detail] = {"quarantine_id": f.quarantine_id,
                                  "source_format": f.source_format, "reason": scrub(f.reason)}
    return Alert(alert_key(kind, None, f.quarantine_id), kind, f.unit_code or PROVINCE, None,
                 AlertState.OPEN, now, details)


def _dead_lettered(f: DeadLetterFacts, now: datetime) -> Alert:
    kind = AlertKind.DEAD_LETTERED
    details: dict[str, Detail] = {"queue": f.queue, "message_id": f.message_id,
                                  "event_type": f.event_type,
                                  "reason": scrub(f.reason) if f.reason else None,
                                  "delivery_count": f.delivery_count}
    return Alert(alert_key(kind, None, f"{f.queue}/{f.message_id}"), kind, PROVINCE, None,
                 AlertState.OPEN, now, details)


def acknowledge(alert: Alert, by: str, at: datetime) -> Alert:
    if alert.state is not AlertState.OPEN:
        raise InvalidTransition(f"cannot acknowledge alert {alert.key}: it is {alert.state}")
    return replace(alert, state=AlertState.ACKNOWLEDGED, acknowledged_at=at, acknowledged_by=by)


def resolve(alert: Alert, at: datetime, resolution: str) -> Alert:
    if alert.state is AlertState.RESOLVED:
        raise InvalidTransition(f"cannot resolve alert {alert.key}: it is already resolved")
    return replace(alert, state=AlertState.RESOLVED, resolved_at=at, resolution=resolution)


def resolve_on_completion(alert: Alert, completed_at: datetime) -> Alert:
    if alert.kind not in RESOLVED_BY_COMPLETION:
        raise InvalidTransition(f"a {alert.kind} alert is not resolved by dossier completion")
    return resolve(alert, completed_at, "dossier_completed")


def note_apology(alert: Alert, issued_at: datetime) -> Alert:
    return replace(alert, apology_issued_at=issued_at)


def mark_escalated(alert: Alert, at: datetime) -> Alert:
    return replace(alert, escalated_at=at)


def mark_reminded(alert: Alert, at: datetime) -> Alert:
    return replace(alert, reminded_at=at)


def follow_up(event_kind: str, facts: Facts, existing: Iterable[Alert],
              now: datetime) -> list[Alert]:
    """The existing alerts of the event's dossier that change because of it (changed copies)."""
    if not isinstance(facts, DossierFacts):
        return []
    changed: list[Alert] = []
    for alert in existing:
        if alert.dossier_code != facts.dossier_code or not alert.is_active:
            continue
        updated = alert
        if facts.apology_issued_at and updated.owes_apology:
            updated = note_apology(updated, facts.apology_issued_at)
        if facts.closed and updated.kind in RESOLVED_BY_COMPLETION:
            updated = resolve_on_completion(updated, facts.completed_at or now)
        elif updated.kind is AlertKind.DUE_SOON and facts.deadline_state == "within":
            updated = resolve(updated, now, "due_date_moved")
        if updated != alert:
            changed.append(updated)
    return changed


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None
