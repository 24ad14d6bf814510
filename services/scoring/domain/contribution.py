"""What one dossier contributes to its unit's indicator counters.

A contribution is a function of the dossier's latest snapshot alone (never of the clock), so a
replay of the history gives the live numbers exactly. Each counter is 0 or 1 per dossier; zero
counters are left out. See docs/scoring.md for the rules and why they were chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, tzinfo

from .periods import VN_TZ, local_date

# TrangThaiHoSo codes (mirrors services.contracts.dossiers.Status; the domain stays stdlib-only).
SUBMITTED, ACCEPTED, REFUSED, IN_PROCESSING = 1, 2, 3, 4
WITHDRAWN, DECIDED, RETURNED = 7, 9, 10
CLOSED_STATUSES = frozenset({WITHDRAWN, DECIDED, RETURNED})
ONLINE_CHANNEL = 2


@dataclass(frozen=True)
class DossierFacts:
    """The snapshot fields scoring needs. Build it with `DossierFacts(**snapshot.model_dump(
    include=FACT_FIELDS))`; enum members compare equal to these plain ints and strings."""

    dossier_code: str
    version: int
    unit_code: str
    procedure_code: str
    status: int
    channel: int | None = None
    submitted_at: datetime | None = None
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: str | None = None  # "early" | "on_time" | "late"
    deadline_state: str | None = None  # "within" | "due_soon" | "overdue" | "paused" | ...
    supplement_count: int = 0
    synced_national: bool | None = None
    fee_bearing: bool | None = None
    paid_online: bool | None = None
    digitised: bool | None = None
    data_reused: bool | None = None
    from_national_store: bool | None = None
    vneid_verified: bool | None = None
    e_result: bool | None = None
    needs_result: bool | None = None


FACT_FIELDS = frozenset(f.name for f in fields(DossierFacts))

# Flags counted over every received dossier: counter name -> DossierFacts field.
_RECEIVED_FLAGS = {
    "synced": "synced_national",
    "digitised": "digitised",
    "data_reused": "data_reused",
    "from_national_store": "from_national_store",
    "vneid_verified": "vneid_verified",
    "fee_bearing": "fee_bearing",
    "needs_result": "needs_result",
}
_PROGRESS = (
    "closed_early", "closed_on_time", "closed_late", "closed_unknown", "withdrawn",
    "open_within", "open_overdue", "progress_numerator", "progress_denominator", "late",
    "known_progress",
)
PER_PROCEDURE_COUNTERS = frozenset({"fee_bearing_procedure", "paid_online_procedure"})
COUNTER_NAMES = frozenset(
    {"submitted", "refused", "received", "online", "known_channel", "paid_online",
     "known_paid_online", "e_result", "known_e_result", *_PROGRESS, *_RECEIVED_FLAGS,
     *(f"known_{name}" for name in _RECEIVED_FLAGS)}
)
DISTINCT_PREFIX = "distinct:"


def is_counter_ref(ref: str) -> bool:
    """A name a scheme may use: a counter, or `distinct:<per-procedure counter>` (procedures
    with at least one such dossier)."""
    if ref.startswith(DISTINCT_PREFIX):
        return ref[len(DISTINCT_PREFIX):] in PER_PROCEDURE_COUNTERS
    return ref in COUNTER_NAMES


def anchor_date(facts: DossierFacts, tz: tzinfo = VN_TZ) -> date | None:
    """The local date whose periods the dossier counts in: acceptance, else submission."""
    moment = facts.accepted_at or facts.submitted_at
    return None if moment is None else local_date(moment, tz)


def is_received(facts: DossierFacts) -> bool:
    """Accepted for handling. Refused, still-submitted and withdrawn-before-acceptance are not."""
    if facts.status in (SUBMITTED, REFUSED):
        return False
    return facts.status != WITHDRAWN or facts.accepted_at is not None


def _flag(out: dict[str, int], name: str, value: bool | None) -> None:
    if value is not None:
        out[f"known_{name}"] = 1
    if value:
        out[name] = 1


def _progress(facts: DossierFacts, as_of: datetime | None) -> str:
    """Which progress bucket a received dossier is in (one of the closed_/open_ counters)."""
    if facts.status in CLOSED_STATUSES:
        if facts.status == WITHDRAWN:
            return "closed_on_time"  # DOMAIN: withdrawal counts as on time
        if facts.supplement_count > 1 or facts.outcome == "late":
            return "closed_late"
        return {"early": "closed_early", "on_time": "closed_on_time"}.get(
            str(facts.outcome), "closed_unknown")
    if facts.supplement_count > 1 or facts.deadline_state == "overdue":
        return "open_overdue"
    # Only for point-in-time reports: a running clock past its due date is overdue even before
    # the sweeper's event arrives. Paused clocks are left alone: their due date moves on resume.
    running = facts.deadline_state in (None, "within", "due_soon")
    if as_of is not None and running and facts.due_at is not None and facts.due_at < as_of:
        return "open_overdue"
    return "open_within"


def contribution(facts: DossierFacts, as_of: datetime | None = None) -> dict[str, int]:
    """Counter increments of one dossier. `as_of` is for point-in-time reports only; the ledger
    passes None so counters depend on the snapshot alone (replay equals live)."""
    out = {"submitted": 1}
    if facts.status == REFUSED:
        out["refused"] = 1
    if not is_received(facts):
        return out
    out["received"] = 1
    for counter, field in _RECEIVED_FLAGS.items():
        _flag(out, counter, getattr(facts, field))
    if facts.channel is not None:
        out["known_channel"] = 1
        if facts.channel == ONLINE_CHANNEL:
            out["online"] = 1
    if facts.fee_bearing:
        _flag(out, "paid_online", facts.paid_online)
        out[f"fee_bearing_procedure:{facts.procedure_code}"] = 1
        if facts.paid_online:
            out[f"paid_online_procedure:{facts.procedure_code}"] = 1
    if facts.needs_result:
        _flag(out, "e_result", facts.e_result)
    state = _progress(facts, as_of)
    out[state] = 1
    out["progress_denominator"] = 1
    if facts.status == WITHDRAWN:
        out["withdrawn"] = 1
    if state in ("closed_early", "closed_on_time", "open_within"):
        out["progress_numerator"] = 1
    if state in ("closed_late", "open_overdue"):
        out["late"] = 1
    if state != "closed_unknown":
        out["known_progress"] = 1
    return out
