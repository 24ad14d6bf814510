"""The daily digest per unit on working days (policy `digest`).

Each unit's slot is recorded under a unique key in the same transaction as the queued
deliveries, so replicas and restarts send each digest once. The content is rendered when
queued: a snapshot of the unit's active alerts at the slot.
"""

from __future__ import annotations

from .adapters.uow import NotificationsUnitOfWork
from .context import Context
from .domain.contacts import targets_for
from .domain.policy import digest_due
from .domain.render import render_digest_email, render_digest_webhook


def send_digests(uow: NotificationsUnitOfWork, ctx: Context) -> int:
    """Queues today's digest of every unit with active alerts; returns how many units."""
    policy, contacts, now = ctx.channels.policy, ctx.channels.contacts, ctx.now
    if not policy.digest.enabled:
        return 0
    queued = 0
    with uow:
        repo = uow.alerts
        for unit in repo.units_with_active_alerts():
            slot = digest_due(unit, repo.last_digest(unit), now, ctx.calendar, policy)
            if slot is None or not repo.record_digest(unit, slot, now):
                continue
            alerts = repo.active_for_unit(unit)
            name = ctx.unit_name(unit)
            mail = render_digest_email(unit, name, alerts, slot, ctx.calendar.hours.tz)
            content = {"subject": mail.subject, "body": mail.body,
                       "webhook": render_digest_webhook(unit, name, alerts, slot)}
            key = f"digest:{unit}:{slot.isoformat()}"
            for target in targets_for(unit, policy.digest.roles, policy.digest.channels,
                                      contacts):
                repo.add_delivery(key, "digest", target, now, now, content=content)
            queued += 1
        uow.commit()
    return queued
