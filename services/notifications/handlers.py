"""Dossier events to alerts: one unit of work per event, with the processed-message record.

Nothing is sent here: new alerts get pending delivery rows, which `delivery.deliver_pending`
sends later, outside any consumer transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from services.common.batch import first_seen
from services.common.entrypoints import InboundMessage
from services.contracts import dossiers as ev
from services.contracts.base import EVENT_TYPES, Event, decode_event
from services.contracts.notifications import AlertRaised, AlertUpdated, AlertView

from .adapters.uow import NotificationsUnitOfWork
from .context import Context
from .domain.alerts import (
    APOLOGY_KINDS,
    DEAD_LETTERED,
    Alert,
    acknowledge,
    decide_alerts,
    follow_up,
)
from .domain.apology import draft_apology
from .domain.facts import DeadLetterFacts, DossierFacts, Facts, QuarantineFacts
from .domain.policy import delivery_time, recipients_for
from .metrics import ALERTS_RAISED

log = logging.getLogger(__name__)

CONSUMER = "notifications.dossier-events"
DEAD_LETTER_CONSUMER = "notifications.dead-letters"


def handle_event(uow: NotificationsUnitOfWork, message: InboundMessage, ctx: Context) -> str:
    """One event in its own transaction."""
    return handle_events(uow, [message], ctx)[0]


def handle_events(uow: NotificationsUnitOfWork, messages: Sequence[InboundMessage],
                  ctx: Context) -> list[str]:
    """Raise the alerts of a batch of events, once per key, in one transaction. Returns each
    message's outcome for metrics."""
    outcomes = ["ignored"] * len(messages)
    decoded: list[tuple[int, InboundMessage, Event, str]] = []
    for i, message in enumerate(messages):
        event_type = message.message_type or message.routing_key
        if event_type not in EVENT_TYPES:
            log.info("ignoring event of unknown type %r", event_type)
            continue
        # A malformed body raises: the queue retries it, then parks it in the DLQ.
        event = decode_event(event_type, message.body)
        decoded.append((i, message, event, message.message_id or str(event.event_id)))
    if not decoded:
        return outcomes
    raised: list[Alert] = []
    with uow:
        ids = [message_id for *_, message_id in decoded]
        claimed = uow.claim_messages(CONSUMER, ids)
        fresh = []
        for (i, message, event, message_id), first in zip(decoded, first_seen(ids),
                                                          strict=True):
            if first and message_id in claimed:
                fresh.append((i, message, event))
            else:
                outcomes[i] = "duplicate"
        uow.alerts.preload(e.dossier.dossier_code for _, _, e in fresh
                           if isinstance(e, ev.DossierEvent))
        for i, message, event in fresh:
            uow.correlate(message.correlation_id)
            raised += apply_event(uow, event, ctx)
            outcomes[i] = "processed"
        uow.commit()
    for alert in raised:
        ALERTS_RAISED.labels(alert.kind.value).inc()
    return outcomes


def facts_of(event: Event) -> Facts | None:
    if isinstance(event, ev.DossierEvent):
        return DossierFacts.from_snapshot(
            event.dossier, outcome=getattr(event, "outcome", None),
            remaining_working_minutes=getattr(event, "remaining_working_minutes", None))
    if isinstance(event, ev.MessageQuarantined):
        return QuarantineFacts(event.quarantine_id, event.source_format, event.reason,
                               event.unit_code)
    return None


def apply_event(uow: NotificationsUnitOfWork, event: Event, ctx: Context) -> list[Alert]:
    """Updates existing alerts, inserts new ones by key, drafts apologies, queues deliveries.
    Returns the alerts that were new."""
    facts = facts_of(event)
    if facts is None:
        return []
    repo, now = uow.alerts, ctx.now
    if isinstance(event, ev.DossierEvent) and not repo.advance_version(
            event.dossier.dossier_code, event.dossier.version):
        return []  # older than what was applied: a reordered event must not reopen anything
    existing = repo.for_dossier(facts.dossier_code) if isinstance(facts, DossierFacts) else []
    for changed in follow_up(event.TYPE, facts, existing, now):
        repo.update(changed)
        uow.emit(AlertUpdated(alert=to_contract(changed)))
    return raise_alerts(uow, event.TYPE, facts, ctx)


def raise_alerts(uow: NotificationsUnitOfWork, event_kind: str, facts: Facts,
                 ctx: Context) -> list[Alert]:
    """Insert the alerts `facts` call for, once per key; draft apologies; queue deliveries."""
    repo, now = uow.alerts, ctx.now
    raised = []
    for alert in decide_alerts(event_kind, facts, now):
        if not repo.add(alert):
            continue  # redelivered, re-sent or decided by another replica: one alert per key
        raised.append(alert)
        # The in-app feed: the gateway shows these as they come.
        uow.emit(AlertRaised(alert=to_contract(alert)))
        if (isinstance(facts, DossierFacts) and alert.kind in APOLOGY_KINDS
                and alert.apology_issued_at is None):
            policy = ctx.channels.policy
            draft = draft_apology(facts, ctx.calendar, now, policy.apology.extra_working_days,
                                  ctx.unit_name(facts.unit_code),
                                  ctx.procedure_name(facts.procedure_code))
            repo.set_apology(alert.key, draft)
        queue_deliveries(uow, alert, "alert", ctx)
    return raised


def handle_dead_letters(new_uow: Callable[[], NotificationsUnitOfWork],
                        messages: Sequence[InboundMessage], ctx: Context) -> list[str]:
    """Dead letters are rare: each in its own transaction, as it always was."""
    return [handle_dead_letter(new_uow(), m, ctx) for m in messages]


def handle_dead_letter(uow: NotificationsUnitOfWork, message: InboundMessage,
                       ctx: Context) -> str:
    """A copy of a message some queue dead-lettered: one alert for the operators per message."""
    deaths = message.headers.get("x-death") or [{}]
    death = deaths[0] if isinstance(deaths, list) and deaths else {}
    queue = str(death.get("queue") or message.routing_key)
    message_id = message.message_id or f"unidentified:{queue}:{death.get('time', '')}"
    facts = DeadLetterFacts(
        queue=queue, message_id=message_id, event_type=message.message_type,
        reason=str(death.get("reason") or "rejected"),
        delivery_count=int(message.headers.get("x-delivery-count") or 0) or None)
    with uow:
        if not uow.claim_message(DEAD_LETTER_CONSUMER, f"{queue}/{message_id}"):
            return "duplicate"
        raised = raise_alerts(uow, DEAD_LETTERED, facts, ctx)
        uow.commit()
    for alert in raised:
        ALERTS_RAISED.labels(alert.kind.value).inc()
    return "processed"


def queue_deliveries(uow: NotificationsUnitOfWork, alert: Alert, purpose: str,
                     ctx: Context) -> int:
    channels = ctx.channels
    at = delivery_time(alert, ctx.now, ctx.calendar, channels.policy)
    targets = recipients_for(alert, channels.contacts, channels.policy)
    return sum(uow.alerts.add_delivery(alert.key, purpose, t, at, ctx.now) for t in targets)


# -- queries and commands (RPC) --------------------------------------------------------------


def alert_view(alert: Alert) -> dict[str, Any]:
    return {
        "key": alert.key, "kind": alert.kind.value, "state": alert.state.value,
        "unit_code": alert.unit_code, "dossier_code": alert.dossier_code,
        "raised_at": alert.raised_at.isoformat(), "details": dict(alert.details),
        "acknowledged_at": _iso(alert.acknowledged_at), "acknowledged_by": alert.acknowledged_by,
        "resolved_at": _iso(alert.resolved_at), "resolution": alert.resolution,
        "apology_issued_at": _iso(alert.apology_issued_at),
        "escalated_at": _iso(alert.escalated_at),
    }


def to_contract(alert: Alert) -> AlertView:
    return AlertView.model_validate(alert_view(alert))


def list_alerts(uow: NotificationsUnitOfWork, unit_code: str | None, kind: str | None,
                state: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    with uow:
        return [alert_view(a) for a in uow.alerts.search(unit_code, kind, state, limit, offset)]


def acknowledge_alert(uow: NotificationsUnitOfWork, key: str, by: str,
                      ctx: Context) -> dict[str, Any]:
    """Raises KeyError for an unknown key, InvalidTransition unless the alert is open."""
    with uow:
        alert = uow.alerts.get(key)
        if alert is None:
            raise KeyError(f"no alert with key {key!r}")
        done = acknowledge(alert, by, ctx.now)
        uow.alerts.update(done)
        uow.emit(AlertUpdated(alert=to_contract(done)))
        uow.commit()
    return alert_view(done)


def get_apology(uow: NotificationsUnitOfWork, dossier_code: str) -> dict[str, Any] | None:
    with uow:
        found = uow.alerts.apology_for(dossier_code)
    if found is None:
        return None
    return {"alert_key": found.alert_key, "dossier_code": found.dossier_code,
            "subject": found.subject, "body_text": found.body_text,
            "new_due_at": _iso(found.new_due_at)}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
