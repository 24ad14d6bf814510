"""One function per command/event: each runs in one unit of work and commits its events with it."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from services.common.batch import first_seen
from services.common.entrypoints import InboundMessage
from services.common.metrics import QUARANTINED
from services.contracts.base import decode_event
from services.contracts.dossiers import DossierEvent, DossierSnapshot
from services.contracts.scoring import ExternalInputSubmitted

from .adapters.uow import ScoringUnitOfWork
from .context import RANKED_LEVELS, ScoringContext, check_period, keys_touched
from .domain.contribution import FACT_FIELDS, DossierFacts
from .domain.counters import BucketDelta, LedgerEntry, advance
from .domain.scoring import external_problems
from .rankings import LevelInputs, RankingCache, publish_if_changed

log = logging.getLogger(__name__)

CONSUMER = "scoring.dossier-events"


def to_facts(snapshot: DossierSnapshot) -> DossierFacts:
    return DossierFacts(**snapshot.model_dump(include=set(FACT_FIELDS)))


def handle_dossier_event(uow: ScoringUnitOfWork, message: InboundMessage,
                         ctx: ScoringContext) -> str:
    """One event in its own transaction."""
    return handle_dossier_events(uow, [message], ctx)[0]


def handle_dossier_events(uow: ScoringUnitOfWork, messages: Sequence[InboundMessage],
                          ctx: ScoringContext) -> list[str]:
    """Fold a batch of dossier events into the counters in one transaction. Returns each
    message's outcome for metrics: processed, stale (an older or equal version), duplicate,
    ignored or quarantined."""
    ids = [m.message_id or _content_id(m) for m in messages]
    outcomes = ["duplicate"] * len(messages)
    with uow:
        claimed = uow.claim_messages(CONSUMER, ids)
        folded: list[tuple[int, DossierSnapshot]] = []
        for i, (message, message_id, first) in enumerate(
                zip(messages, ids, first_seen(ids), strict=True)):
            if not (first and message_id in claimed):
                continue
            try:
                event = decode_event(message.message_type or message.routing_key, message.body)
            except (KeyError, ValidationError, ValueError) as exc:
                _quarantine(uow, message, exc)
                outcomes[i] = "quarantined"
                continue
            if isinstance(event, DossierEvent):
                folded.append((i, event.dossier))
            else:
                outcomes[i] = "ignored"
        applied = apply_snapshots(uow, [snap for _, snap in folded], ctx)
        for (i, _), ok in zip(folded, applied, strict=True):
            outcomes[i] = "processed" if ok else "stale"
        uow.commit()
    return outcomes


def apply_snapshot(uow: ScoringUnitOfWork, snapshot: DossierSnapshot,
                   ctx: ScoringContext) -> bool:
    return apply_snapshots(uow, [snapshot], ctx)[0]


def apply_snapshots(uow: ScoringUnitOfWork, snapshots: Sequence[DossierSnapshot],
                    ctx: ScoringContext) -> list[bool]:
    """Apply snapshots, in order, as deltas against their dossiers' ledger entries; False for
    each one that is stale. One read, one write of the ledger, counters and dirty marks."""
    if not snapshots:
        return []
    repo = uow.scores
    ledger = repo.lock_entries(s.dossier_code for s in snapshots)
    changed: dict[str, LedgerEntry] = {}
    deltas: list[BucketDelta] = []
    applied = []
    for snapshot in snapshots:
        step = advance(ledger[snapshot.dossier_code], to_facts(snapshot))
        applied.append(step is not None)
        if step is not None:
            entry, entry_deltas = step
            ledger[entry.dossier_code] = changed[entry.dossier_code] = entry
            deltas += entry_deltas
    repo.put_entries(changed.values())
    repo.add_deltas(deltas)
    dirty = set()
    for d in deltas:
        level = ctx.level_of(d.unit_code)
        if level is not None:
            dirty |= {(level, key) for key in keys_touched(d.bucket, ctx)}
    repo.mark_dirty(dirty)
    return applied


def rank_dirty(uow: ScoringUnitOfWork, ctx: ScoringContext, now: datetime,
               limit: int = 64, cache: RankingCache | None = None,
               periods: Sequence[str] | None = None) -> int:
    """Recompute the rankings of every dirty (level, period) for every scheme and publish
    those that moved; `periods`, when given, are the live periods this pass ranks (the others
    stay dirty). Returns how many RankingChanged events were emitted.

    Each (level, period) is ranked and committed in a transaction of its own, the month first,
    so the month's rankings reach the dashboard while longer periods are being computed. That
    transaction holds a lock per kind of period (month, quarter, year, rolling-30): one pass
    at a time ranks a kind, across replicas, and a (level, period) whose lock is taken is left
    dirty for the pass holding it. The dirty marks are read, not locked: consumers keep
    counting while the pass runs, and a mark that grew meanwhile stays dirty for the next
    pass, because only the count seen here is recorded as ranked."""
    live = ctx.live_periods()
    wanted = live if periods is None else tuple(p for p in live if p in periods)
    with uow:
        if uow.scores.first_time_today(ctx.today.isoformat()):
            # A new day slides the rolling window and may start a month: re-rank everything.
            mark_all_live_dirty(uow, ctx)
        seen = uow.scores.claim_dirty(limit)
        # Periods no longer live (the month rolled over) are marked ranked and left alone.
        for level, period, changes in seen:
            if period not in live:
                uow.scores.set_ranked(level, period, changes)
        uow.commit()
    published = 0
    for level, period, changes in sorted(
            (s for s in seen if s[1] in wanted), key=lambda s: (live.index(s[1]), s[0])):
        with uow:
            if not uow.scores.lock_ranker(_PERIOD_KINDS[live.index(period)]):
                continue  # another pass is ranking this kind of period right now
            if cache is not None:
                cache.begin(uow.scores)
            inputs = LevelInputs(uow.scores, ctx, level, period, cache)
            for scheme in ctx.schemes.values():
                if publish_if_changed(uow, ctx, scheme, level, period, now, inputs, cache):
                    published += 1
            # Last, so the row consumers also write is locked only for the commit.
            uow.scores.set_ranked(level, period, changes)
            uow.commit()
    return published


# The kinds of live period, in the order of ScoringContext.live_periods.
_PERIOD_KINDS = ("month", "quarter", "year", "rolling-30")


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
        # Past periods too: their change count tells the ranker's cache of previous-period
        # ranks that they moved.
        keys = {(level, command.period)}
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
