"""From the aggregate and the SLA clock's assessment to what leaves the service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common.reference import Procedure, Province
from services.common.workcalendar import WorkingCalendar
from services.contracts.dossiers import DossierSnapshot

from .adapters.repository import Derived
from .domain.changes import Summary
from .domain.dossier import Dossier
from .domain.sla import SlaAssessment, SlaInput, StatutoryTime, TimeUnit, assess
from .domain.status import CLOSED


@dataclass(frozen=True)
class Context:
    """What a handler needs besides the unit of work: reference data, calendar and time."""

    province: Province
    calendar: WorkingCalendar
    now: datetime
    due_soon_minutes: int = 480


def statutory(procedure: Procedure | None) -> StatutoryTime | None:
    if procedure is None:
        return None
    return StatutoryTime(procedure.statutory_amount, TimeUnit(procedure.statutory_unit))


def assess_dossier(dossier: Dossier, ctx: Context) -> SlaAssessment:
    closed = dossier.status in CLOSED
    return assess(
        ctx.calendar,
        SlaInput(
            accepted_at=dossier.accepted_at(),
            statutory=statutory(ctx.province.procedure(dossier.procedure_code)),
            pauses=dossier.pauses(),
            supplement_count=dossier.supplement_count(),
            source_due_at=dossier.facts.get("source_due_at"),
            completed_at=dossier.completed_at() if closed else None,
            withdrawn=dossier.status == 7,
            apology_issued="apology_issued_at" in dossier.facts,
        ),
        ctx.now,
        ctx.due_soon_minutes,
    )


def derived(dossier: Dossier, a: SlaAssessment) -> Derived:
    return Derived(
        closed=dossier.status in CLOSED,
        paused=a.state is not None and a.state.value == "paused",
        deadline_state=a.state.value if a.state else None,
        outcome=a.outcome.value if a.outcome else None,
        due_at=a.due_at,
        due_soon_at=a.due_soon_at,
    )


def summary(dossier: Dossier, a: SlaAssessment) -> Summary:
    return Summary(
        status=dossier.status,
        accepted_at=dossier.accepted_at(),
        paused=a.state is not None and a.state.value == "paused",
        completed=dossier.status in CLOSED,
        apology_issued="apology_issued_at" in dossier.facts,
    )


def snapshot(dossier: Dossier, a: SlaAssessment, ctx: Context) -> DossierSnapshot:
    f = dossier.facts
    procedure = ctx.province.procedure(dossier.procedure_code)
    decided = dossier.status in (9, 10)
    fields: dict[str, Any] = {
        "dossier_code": dossier.code,
        "version": dossier.version,
        "unit_code": dossier.unit_code,
        "procedure_code": dossier.procedure_code,
        "status": dossier.status,
        "channel": f.get("channel"),
        "applicant_type": f.get("applicant_type"),
        "submitted_at": f.get("submitted_at"),
        "accepted_at": dossier.accepted_at(),
        "due_at": a.due_at,
        "computed_due_at": a.computed_due_at,
        "source_due_at": a.source_due_at,
        "due_date_disagrees": a.due_date_disagrees,
        "completed_at": dossier.completed_at() if dossier.status in CLOSED else None,
        "returned_at": f.get("returned_at"),
        "outcome": a.outcome.value if a.outcome else None,
        "deadline_state": a.state.value if a.state else None,
        "supplement_count": dossier.supplement_count(),
        "paused": a.state is not None and a.state.value == "paused",
        "apology_issued_at": f.get("apology_issued_at"),
        "fee_bearing": procedure.fee_bearing if procedure else None,
        "needs_result": True if decided else None,
    }
    for key in ("synced_national", "paid_online", "digitised", "data_reused",
                "from_national_store", "vneid_verified", "e_result"):
        fields[key] = f.get(key)
    return DossierSnapshot.model_validate(fields)
