"""Sending pending deliveries: claim (one short transaction), send (no transaction open),
record (another short transaction).

A claim is a lease: if this process dies after the claim, the lease runs out and another pass
(any replica) sends again. Delivery is therefore at least once; receivers de-duplicate on the
delivery id (`X-ParPulse-Delivery`), which is the same for every attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .adapters import DeliveryResult
from .adapters.dispatch import Outbound, dispatch
from .adapters.repository import PendingDelivery
from .adapters.uow import NotificationsUnitOfWork
from .context import Context
from .domain.alerts import Alert
from .domain.render import EmailContent, render_email, render_webhook
from .metrics import DELIVERIES, DELIVERY_LATENCY

DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Sent:
    delivery: PendingDelivery
    result: DeliveryResult
    outcome: str | None = None  # set when the delivery was not attempted (cancelled)


def deliver_pending(uow: NotificationsUnitOfWork, ctx: Context, limit: int = 50,
                    lease: timedelta = DEFAULT_LEASE) -> int:
    """Sends what is due; returns how many deliveries were settled. Safe in every replica."""
    with uow:
        claimed = uow.alerts.claim_deliveries(ctx.now, lease, limit)
        keys = {d.alert_key for d in claimed if d.content is None}
        alerts = {key: uow.alerts.get(key) for key in keys}
        uow.commit()
    if not claimed:
        return 0
    sent = [_send(d, alerts.get(d.alert_key), ctx) for d in claimed]
    with uow:
        outcomes = [uow.alerts.record_delivery(s.delivery.id, s.result, ctx.now, s.outcome)
                    for s in sent]
        uow.commit()
    for s, outcome in zip(sent, outcomes, strict=True):
        DELIVERIES.labels(s.delivery.target.channel, outcome).inc()
        if outcome == "delivered":
            waited = (ctx.now - s.delivery.not_before).total_seconds()
            DELIVERY_LATENCY.labels(s.delivery.target.channel).observe(max(waited, 0.0))
    return len(sent)


def _send(delivery: PendingDelivery, alert: Alert | None, ctx: Context) -> Sent:
    if delivery.content is not None:  # a digest, rendered when it was queued
        c = delivery.content
        return _dispatch(delivery, Outbound(delivery.alert_key,
                                            EmailContent(c["subject"], c["body"]), c["webhook"]),
                         ctx)
    # An alert resolved while its delivery waited (quiet hours) is old news: do not send it.
    if alert is None or not alert.is_active:
        return Sent(delivery, DeliveryResult(False, "alert resolved before delivery"),
                    "cancelled")
    unit_name = ctx.unit_name(alert.unit_code)
    outbound = Outbound(
        delivery_key=f"{alert.key}/{delivery.purpose}",
        email=render_email(alert, purpose=delivery.purpose, unit_name=unit_name,
                           tz=ctx.calendar.hours.tz),
        webhook=render_webhook(alert, purpose=delivery.purpose, unit_name=unit_name,
                               tz=ctx.calendar.hours.tz),
    )
    return _dispatch(delivery, outbound, ctx)


def _dispatch(delivery: PendingDelivery, outbound: Outbound, ctx: Context) -> Sent:
    channels = ctx.channels
    [(_, result)] = dispatch([delivery.target], outbound, email=channels.email,
                             webhook=channels.webhook, secret_for=channels.secret_for)
    return Sent(delivery, result)
