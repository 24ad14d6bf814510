"""One function per command: each runs in one unit of work and commits its events with it."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from datetime import date, datetime

from services.common.batch import first_seen
from services.common.entrypoints import InboundMessage
from services.common.metrics import QUARANTINED
from services.contracts import dossiers as ev

from .adapters.inbound import Item, parse
from .adapters.repository import DossierRepository
from .adapters.uow import DossiersUnitOfWork
from .domain.changes import Change, changes, thresholds_crossed
from .domain.dossier import Dossier, Rejected, Report
from .domain.privacy import masked
from .domain.sla import SlaAssessment
from .metrics import DOSSIERS_COMPLETED, DOSSIERS_OPEN, METRIC_STATES, SWEEPER_LAST_RUN
from .views import Context, assess_dossier, derived, snapshot, summary

log = logging.getLogger(__name__)

CONSUMER = "dossiers.inbound"


def handle_inbound(uow: DossiersUnitOfWork, message: InboundMessage, ctx: Context) -> str:
    """One message in its own transaction."""
    return handle_inbound_batch(uow, [message], ctx)[0]


def handle_inbound_batch(uow: DossiersUnitOfWork, messages: Sequence[InboundMessage],
                         ctx: Context) -> list[str]:
    """Apply every dossier statement of the messages, in order, in one transaction; quarantine
    what cannot be applied. Returns each message's outcome for metrics: processed, duplicate
    or quarantined."""
    ids = [_message_key(m) for m in messages]
    outcomes = ["duplicate"] * len(messages)
    with uow:
        claimed = uow.claim_messages(CONSUMER, ids)
        todo = [(i, m, parse(m)) for i, (m, message_id, first)
                in enumerate(zip(messages, ids, first_seen(ids), strict=True))
                if first and message_id in claimed]
        uow.dossiers.load(item.report.dossier_code for _, _, items in todo for item in items
                          if item.report is not None)
        for i, message, items in todo:
            uow.correlate(message.correlation_id)
            outcomes[i] = _apply_items(uow, message, items, ctx)
        uow.commit()
        for event in uow.last_committed:
            if isinstance(event, ev.DossierCompleted):
                DOSSIERS_COMPLETED.labels(event.dossier.unit_code, event.outcome.value).inc()
    return outcomes


def _apply_items(uow: DossiersUnitOfWork, message: InboundMessage, items: list[Item],
                 ctx: Context) -> str:
    outcome = "processed"
    for item in items:
        rejected = item.rejected
        if item.report is not None:
            try:
                apply_report(uow, item.report, ctx)
            except Rejected as exc:
                rejected = exc
        if rejected is not None:
            quarantine(uow, message, item, rejected)
            outcome = "quarantined"
    return outcome


def apply_report(uow: DossiersUnitOfWork, report: Report, ctx: Context) -> None:
    repo = uow.dossiers
    dossier = repo.get(report.dossier_code)
    _check_reference(report, dossier, ctx)
    before = None
    if dossier is None:
        if not report.unit_code or not report.procedure_code:
            raise Rejected(
                "unknown_dossier",
                f"dossier {report.dossier_code} is not known yet: a progress step can only be "
                "applied after the dossier's DongBoHoSoMC sync (re-inject it after the sync)",
            )
        dossier = Dossier(report.dossier_code, report.unit_code, report.procedure_code)
    else:
        before = summary(dossier, assess_dossier(dossier, ctx))
    if not dossier.apply(report):
        return
    assessment = assess_dossier(dossier, ctx)
    repo.save(dossier, derived(dossier, assessment), ctx.now)
    snap = snapshot(dossier, assessment, ctx)
    for change in changes(before, summary(dossier, assessment)):
        uow.emit(_event(change, snap, dossier, assessment))
    if _announce_thresholds(uow, repo, dossier, assessment, ctx):
        # An announcement grew the version: store it, or the next change would reuse it.
        repo.save(dossier, derived(dossier, assessment), ctx.now)


def sweep(uow: DossiersUnitOfWork, ctx: Context, limit: int = 500) -> int:
    """Announce due-soon and overdue dossiers whose threshold time has passed; returns how many
    announcements were made. Safe to run in every replica at once."""
    announced = 0
    with uow:
        repo = uow.dossiers
        for dossier in repo.claim_due(ctx.now, limit):
            assessment = assess_dossier(dossier, ctx)
            announced += _announce_thresholds(uow, repo, dossier, assessment, ctx)
            repo.save(dossier, derived(dossier, assessment), ctx.now)
        uow.commit()
        _observe_open(repo.count_open())
    SWEEPER_LAST_RUN.labels("dossiers").set_to_current_time()
    return announced


def _observe_open(counts: dict[tuple[str, str], int]) -> None:
    # Clear first: a unit whose last overdue dossier closed must drop to zero, not linger.
    DOSSIERS_OPEN.clear()
    for (unit, state), n in counts.items():
        if state in METRIC_STATES:
            DOSSIERS_OPEN.labels(unit, METRIC_STATES[state]).set(n)


def _announce_thresholds(uow: DossiersUnitOfWork, repo: DossierRepository, dossier: Dossier,
                         assessment: SlaAssessment, ctx: Context) -> int:
    state = assessment.state.value if assessment.state else None
    announced = 0
    for change in thresholds_crossed(state, dossier.status in (3, 7, 9, 10)):
        if repo.record_crossing(dossier.code, change.value, ctx.now):
            dossier.version += 1
            snap = snapshot(dossier, assessment, ctx)
            uow.emit(_event(change, snap, dossier, assessment))
            announced += 1
    return announced


def quarantine(uow: DossiersUnitOfWork, message: InboundMessage, item: Item, why: Rejected) -> None:
    fmt = _storable(message.format) or "unknown"
    row = uow.quarantine(
        consumer=CONSUMER, message_id=_storable(message.message_id), source_format=fmt[:64],
        routing_key=_storable(message.routing_key), item_index=item.index, reason_code=why.code,
        reason=why.reason, raw_payload=item.raw, unit_code=item.unit_code,
    )
    QUARANTINED.labels("dossiers", fmt if fmt in _KNOWN_FORMATS else "unknown", why.code).inc()
    log.warning("quarantined %s item %s: %s", message.message_id, item.index, why.reason)
    uow.emit(ev.MessageQuarantined(quarantine_id=row.id, source_format=fmt[:64],
                                   reason=why.reason, unit_code=item.unit_code))


_KNOWN_FORMATS = {"parpulse.dossier.v1", "dvcqg.DongBoHoSoMC", "dvcqg.CapNhatTienDoHoSoMC"}


def _check_reference(report: Report, dossier: Dossier | None, ctx: Context) -> None:
    tz = ctx.calendar.hours.tz
    on = report.status_at.astimezone(tz).date()
    if report.unit_code is not None:
        unit = ctx.province.unit(report.unit_code)
        if unit is None:
            raise Rejected("unknown_unit", f"unit {report.unit_code!r} is not in the unit "
                                           f"registry of province {ctx.province.code!r}")
        # A dossier keeps the unit it was filed under, even once that unit is abolished (the
        # districts, on 2025-07-01): valid on the report's date or on the filing date will do.
        filed = _filed_at(report, dossier)
        filed_on = filed.astimezone(tz).date() if filed else None
        if not unit.is_valid_on(on) and not (filed_on and unit.is_valid_on(filed_on)):
            raise Rejected("unknown_unit", f"unit {report.unit_code!r} ({unit.name}) is not "
                                           f"valid on {on.isoformat()}: {_validity(unit)}")
    if report.procedure_code is not None and ctx.province.procedure(report.procedure_code) is None:
        raise Rejected("unknown_procedure", f"procedure {report.procedure_code!r} is not in the "
                                            "procedure catalogue")


def _filed_at(report: Report, dossier: Dossier | None) -> datetime | None:
    known = [report.facts.get("submitted_at"), report.facts.get("accepted_at")]
    if dossier is not None:
        known += [dossier.history[0].at, dossier.facts.get("submitted_at"),
                  dossier.facts.get("accepted_at")]
    dates = [d for d in known if isinstance(d, datetime)]
    return min(dates) if dates else None


def _validity(unit: object) -> str:
    start: date | None = getattr(unit, "valid_from", None)
    end: date | None = getattr(unit, "valid_to", None)
    return f"valid from {start or 'the start'} until {end or 'now'}"


def _event(change: Change, snap: ev.DossierSnapshot, dossier: Dossier,
           assessment: SlaAssessment) -> ev.Event:
    if change is Change.ACCEPTED:
        return ev.DossierAccepted(dossier=snap)
    if change is Change.STATUS_CHANGED:
        prior = [e.status for e in dossier.history[:-1]]
        return ev.DossierStatusChanged(dossier=snap, from_status=prior[-1] if prior else None,
                                       to_status=dossier.status)
    if change is Change.PAUSED:
        return ev.DossierPaused(dossier=snap, reason=dossier.status)
    if change is Change.RESUMED:
        return ev.DossierResumed(dossier=snap)
    if change is Change.COMPLETED:
        return ev.DossierCompleted(dossier=snap, outcome=snap.outcome or ev.Outcome.ON_TIME)
    if change is Change.APOLOGY_ISSUED:
        return ev.ApologyIssued(dossier=snap, new_due_at=dossier.facts.get("apology_new_due_at"))
    if change is Change.DUE_SOON:
        return ev.DossierDueSoon(dossier=snap, remaining_working_minutes=max(
            0, assessment.remaining_working_minutes or 0))
    if change is Change.OVERDUE:
        return ev.DossierOverdue(dossier=snap)
    return ev.DossierRevised(dossier=snap)


def _storable(text: str | None) -> str | None:
    """Message properties as text the database can hold: a NUL becomes U+FFFD."""
    return text.replace("\x00", "\ufffd") if text else text


def _message_key(message: InboundMessage) -> str:
    # An id the database cannot store (a NUL byte) is replaced, as a missing one is.
    if message.message_id and "\x00" not in message.message_id:
        return message.message_id
    return _content_id(message)


def _content_id(message: InboundMessage) -> str:
    # A message without an id is deduplicated by content: resending identical bytes is a no-op.
    digest = hashlib.sha256((message.format or "").encode() + b"\0" + message.body).hexdigest()
    return f"sha256:{digest}"


# -- queries and operator commands (RPC) ------------------------------------------------


def get_dossier(uow: DossiersUnitOfWork, code: str, ctx: Context) -> ev.DossierDetail | None:
    with uow:
        dossier = uow.dossiers.get(code)
        if dossier is None:
            return None
        a = assess_dossier(dossier, ctx)
        return ev.DossierDetail(
            dossier=snapshot(dossier, a, ctx),
            history=[ev.StatusEntryView(status=e.status, at=e.at) for e in dossier.history],
            pauses=[ev.PauseView(start=p.start, end=p.end) for p in dossier.pauses()],
            remaining_working_minutes=a.remaining_working_minutes,
            elapsed_working_minutes=a.elapsed_working_minutes,
            **masked(dossier.personal),
        )


def list_by_state(uow: DossiersUnitOfWork, unit_code: str | None, state: str, limit: int,
                  offset: int, ctx: Context) -> list[ev.DossierSnapshot]:
    if state not in ("due_soon", "overdue", "within", "paused"):
        raise ValueError(f"unknown deadline state {state!r}: use due_soon, overdue, within "
                         "or paused")
    with uow:
        found = uow.dossiers.list_by_state(unit_code, state, limit, offset)
        return [snapshot(d, assess_dossier(d, ctx), ctx) for d in found]


def export_snapshots(uow: DossiersUnitOfWork, ctx: Context,
                     batch: int = 1000) -> Iterator[ev.DossierSnapshot]:
    """Every dossier's current snapshot, as of `ctx.now`: the history scoring replays from."""
    after: str | None = None
    while True:
        with uow:
            page = uow.dossiers.page_after(after, batch)
            snaps = [snapshot(d, assess_dossier(d, ctx), ctx) for d in page]
        yield from snaps
        if len(page) < batch:
            return
        after = page[-1].code
