"""One notice to many targets over their channels. Each target is tried on its own: a failing
channel or recipient never stops the others, and every target gets a recorded result."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.contacts import Target
from ..domain.render import EmailContent
from . import DeliveryResult
from .email import SmtpSender
from .webhook import WebhookSender


@dataclass(frozen=True)
class Outbound:
    """The same notice rendered for each channel."""

    delivery_key: str  # e.g. "<alert key>/alert": receivers de-duplicate on the delivery id
    email: EmailContent
    webhook: Mapping[str, Any]


def delivery_id(delivery_key: str, target: Target) -> str:
    digest = hashlib.sha256(f"{target.channel}:{target.address}".encode()).hexdigest()[:12]
    return f"{delivery_key}/{digest}"


def dispatch(targets: Iterable[Target], outbound: Outbound, *, email: SmtpSender | None,
             webhook: WebhookSender | None, secret_for: Callable[[str], bytes | None],
             personal_values: Iterable[str] = ()) -> list[tuple[Target, DeliveryResult]]:
    """Sends to every target; `secret_for(env name)` gives a webhook's HMAC secret."""
    values = tuple(personal_values)
    results: list[tuple[Target, DeliveryResult]] = []
    for target in targets:
        try:
            result = _one(target, outbound, email, webhook, secret_for, values)
        except Exception as exc:  # senders never raise; a broken secret lookup might
            result = DeliveryResult(False, f"{type(exc).__name__}: {exc}", dead_lettered=True)
        results.append((target, result))
    return results


def _one(target: Target, outbound: Outbound, email: SmtpSender | None,
         webhook: WebhookSender | None, secret_for: Callable[[str], bytes | None],
         values: tuple[str, ...]) -> DeliveryResult:
    ident = delivery_id(outbound.delivery_key, target)
    if target.channel == "email" and email is not None:
        return email.send([target.address], outbound.email.subject, outbound.email.body,
                          headers={"X-ParPulse-Delivery": ident}, personal_values=values)
    if target.channel == "webhook" and webhook is not None:
        secret = secret_for(target.secret_env) if target.secret_env else None
        if not secret:
            return DeliveryResult(False, f"no webhook secret in {target.secret_env}",
                                  dead_lettered=True)
        return webhook.send(target.address, secret, outbound.webhook, delivery_id=ident,
                            personal_values=values)
    return DeliveryResult(False, f"channel {target.channel} is not configured",
                          dead_lettered=True)
