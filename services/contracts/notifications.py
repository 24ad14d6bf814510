"""Events and RPC payloads of the notifications service: the in-app alert feed."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime

from .base import Contract, Event, register


class AlertView(Contract):
    """An alert as people see it. `details` hold no personal data (masked at the source)."""

    key: str
    kind: str
    state: str
    unit_code: str
    dossier_code: str | None = None
    raised_at: AwareDatetime
    details: dict[str, Any] = {}
    acknowledged_at: AwareDatetime | None = None
    acknowledged_by: str | None = None
    resolved_at: AwareDatetime | None = None
    resolution: str | None = None
    apology_issued_at: AwareDatetime | None = None
    escalated_at: AwareDatetime | None = None


@register
class AlertRaised(Event):
    TYPE = "notification.alert_raised"
    alert: AlertView


@register
class AlertUpdated(Event):
    """Acknowledged, resolved, apology noted or escalated."""

    TYPE = "notification.alert_updated"
    alert: AlertView


class ApologyDraftView(Contract):
    alert_key: str
    dossier_code: str
    subject: str
    body_text: str
    new_due_at: AwareDatetime | None = None
