"""One function per command/event: each runs in one unit of work and commits its events with it."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from pydantic import ValidationError

from services.common.entrypoints import InboundMessage
from services.common.metrics import QUARANTINED
from services.contracts.base import decode_event
from services.contracts.dossiers import DossierEvent, DossierSnapshot
from services.contracts.scoring import ExternalInputSubmitted

from .adapters.uow import ScoringUnitOfWork
from .context import RANKED_LEVELS, ScoringContext, check_period, live_keys_touched
from .domain.contribution import FACT_FIELDS, DossierFacts
from .domain.counters import advance
from .domain.scoring import external_problems
from .rankings import LevelInputs, publish_if_changed

log = logging.getLogger(__name__)

CONSUMER = "scoring.dossier-events"


def to_facts(snapshot: DossierSnapshot) -> DossierFacts:
    return DossierFacts(**snapshot.model_dump(include=set(FACT_FIELDS)))


def handle_dossier_event(uow: ScoringUnitOfWork, message: InboundMessage,
                         ctx: ScoringContext) -> str:
    """Fold one dossier event into the counters. Returns the outcome for metrics: processed,
    stale (an older or equal version), duplicate, ignored or quarantined."""
    message_id = message.message_id or _content_id(message)
    with uow:
        if not uow.claim_message(CONSUMER, message_id):
            return "duplicate"
        try:
            event = decode_event(message.message_type or message.routing_key, message.body)
        except (KeyError, ValidationError, ValueError) as exc:
            _quarantine(uow, message, exc)
            uow.commit()
            return "quarantined"
        outcome = "ignored"
        if isinstance(event, DossierEvent):
            outcome = "processed" if apply_snapshot(uow, event.dossier, ctx) else "stale"
        uow.commit()
    return outcome


def apply_snapshot(uow: ScoringUnitOfWork, snapshot: DossierSnapshot,
                   ctx: ScoringContext) -> bool:
    """Apply a snapshot as a delta against the dossier's ledger entry; False when stale."""
    repo = uow.scores
    step = advance(repo.lock_entry(snapshot.dossier_code), to_facts(snapshot))
    if step is None:
        return False
    entry, deltas = step
    repo.put_entry(entry)
    repo.add_deltas(deltas)
    dirty = set()
    for d in deltas:
        level = ctx.level_of(d.unit_code)
        if level is not None:
            dirty |= {(level, key) for key in live_keys_touched(d.bucket, ctx)}
    repo.mark_dirty(dirty)
    return True


def rank_dirty(uow: ScoringUnitOfWork, ctx: ScoringContext, now: datetime,
               limit: int = 64) -> int:
    """Recompute the rankings of every claimed dirty (level, period) for every scheme and
    publish those that moved. Returns how many RankingChanged events were emitted."""
    published = 0
    with uow:
        if uow.scores.first_time_today(ctx.today.isoformat()):
            # A new day slides the rolling window and may start a month: re-rank everything.
            mark_all_live_dirty(uow, ctx)
        for level, period, changes in uow.scores.claim_dirty(limit):
            if period in ctx.live_periods():
                inputs = LevelInputs(uow.scores, ctx, level, period)
                for scheme in ctx.schemes.values():
                    if publish_if_changed(uow, ctx, scheme, level, period, now, inputs):
                        published += 1
            # Periods no longer live (the month rolled over) are marked ranked and left alone.
            uow.scores.set_ranked(level, period, changes)
        uow.commit()
    return published


def submit_external_input(uow: ScoringUnitOfWork, command: ExternalInputSubmitted,
                          ctx: ScoringContext, now: datetime) -> None:
    """Store external values for one unit and period; raises ValueError on bad input."""
    check_period(command.period)
    level = ctx.level_of(command.unit_code)
    if level is None:
        raise ValueError(f"unit {command.unit_code!r} is not in the unit registry")
    known = {key for s in ctx.schemes.values() for key in s.external_inputs()}
    problems = [f"{key!r} is not an external input of any scheme"
                for key in command.values if key not in known]
    for scheme in ctx.schemes.values():
        problems += external_problems(scheme, command.values, allow_unknown=True)
    if problems:
        raise ValueError("; ".join(sorted(set(problems))))
    with uow:
        uow.scores.put_external(command.unit_code, command.period, command.values,
                                command.submitted_at or now)
        live = ctx.live_periods()
        keys = {(level, command.period)} if command.period in live else set()
        if command.period == live[0]:
            keys.add((level, live[-1]))  # the rolling window uses the month's inputs
        uow.scores.mark_dirty(keys)
        uow.commit()


def mark_all_live_dirty(uow: ScoringUnitOfWork, ctx: ScoringContext) -> None:
    uow.scores.mark_dirty((level, p) for level in RANKED_LEVELS for p in ctx.live_periods())


def _quarantine(uow: ScoringUnitOfWork, message: InboundMessage, exc: Exception) -> None:
    reason = f"not a decodable dossier event: {exc}"[:2000]
    uow.quarantine(consumer=CONSUMER, message_id=message.message_id,
                   source_format=(message.message_type or "unknown")[:64],
                   routing_key=message.routing_key, item_index=None,
                   reason_code="undecodable_event", reason=reason, raw_payload=message.body,
                   unit_code=None)
    QUARANTINED.labels("scoring", "event", "undecodable_event").inc()
    log.warning("quarantined %s: %s", message.message_id, reason)


def _content_id(message: InboundMessage) -> str:
    digest = hashlib.sha256((message.message_type or "").encode() + b"\0" + message.body)
    return f"sha256:{digest.hexdigest()}"
