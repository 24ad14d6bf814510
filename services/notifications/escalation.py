"""Escalations and apology reminders: a periodic pass over late-dossier alerts with no apology.

Each pass claims the alerts it looks at (SKIP LOCKED on PostgreSQL, the single writer on
SQLite) and records `escalated_at` / `reminded_at` in the same transaction as the deliveries it
queues, so replicas and restarts escalate once and remind once per interval.
"""

from __future__ import annotations

from .adapters.uow import NotificationsUnitOfWork
from .context import Context
from .domain.alerts import mark_escalated, mark_reminded
from .domain.contacts import targets_for
from .domain.policy import delivery_time, escalations_due, reminders_due

REMINDED_ROLES = ("handling_officer",)


def escalate_and_remind(uow: NotificationsUnitOfWork, ctx: Context,
                        limit: int = 500) -> tuple[int, int]:
    """Returns (alerts escalated, alerts reminded) in this pass."""
    policy, contacts, now = ctx.channels.policy, ctx.channels.contacts, ctx.now
    with uow:
        owing = uow.alerts.claim_owing_apology(limit)
        escalated = escalations_due(owing, now, ctx.calendar, policy)
        # The reminder pass below must see the escalation marks, or it would write them away.
        latest = {a.key: a for a in owing}
        for due in escalated:
            alert = latest[due.alert.key] = mark_escalated(due.alert, now)
            uow.alerts.update(alert)
            at = delivery_time(alert, now, ctx.calendar, policy)
            for target in targets_for(alert.unit_code, due.roles, due.channels, contacts):
                uow.alerts.add_delivery(alert.key, "escalation", target, at, now)
        reminded = reminders_due(owing, now, ctx.calendar, policy)
        for stale in reminded:
            alert = mark_reminded(latest[stale.key], now)
            uow.alerts.update(alert)
            route = policy.routes.get(alert.kind)
            channels = route.channels if route is not None else ("email",)
            at = delivery_time(alert, now, ctx.calendar, policy)
            for target in targets_for(alert.unit_code, REMINDED_ROLES, channels, contacts):
                uow.alerts.add_delivery(alert.key, "reminder", target, at, now,
                                        round_=int(now.timestamp()))
        uow.commit()
    return len(escalated), len(reminded)
