"""Re-publishing dead letters after a fix: `parpulse dlq replay <queue>`.

Each message parked in `<queue>.dlq` goes back to the exchange and routing key it was first
published with (from its `x-death` record), with its message id, type and headers, so the
consumer's deduplication still applies. The dead letter is acked only after the broker confirmed
the re-publish: a crash in between leaves it in the DLQ, and replaying it again is harmless.
"""

from __future__ import annotations

import logging
from typing import Any

import amqp

from .publisher import connection_params

log = logging.getLogger(__name__)

# Headers the broker adds on dead-lettering and redelivery; a replayed message starts afresh.
_BROKER_HEADERS = ("x-death", "x-delivery-count", "x-first-death-exchange",
                   "x-first-death-queue", "x-first-death-reason", "x-last-death-exchange",
                   "x-last-death-queue", "x-last-death-reason")


def origin(headers: dict[str, Any]) -> tuple[str, str] | None:
    """The (exchange, routing key) a dead letter was first published with, if recorded."""
    deaths = headers.get("x-death") or []
    if not deaths:
        return None
    first = deaths[-1]  # the broker prepends; the oldest death names the original publish
    keys = first.get("routing-keys") or []
    exchange = first.get("exchange")
    if exchange is None or not keys:
        return None
    return str(exchange), str(keys[0])


def replay(amqp_uri: str, queue: str, limit: int | None = None) -> tuple[int, int]:
    """Move up to `limit` dead letters of `queue` back to where they came from. Returns
    (replayed, left): messages without a recorded origin stay in the DLQ."""
    conn = amqp.Connection(**connection_params(amqp_uri))
    conn.connect()
    replayed = left = 0
    try:
        channel = conn.channel()
        channel.confirm_select()  # basic_publish now waits for the broker's ack
        while limit is None or replayed + left < limit:
            message = channel.basic_get(f"{queue}.dlq", no_ack=False)
            if message is None:
                break
            headers = dict(message.properties.get("application_headers") or {})
            target = origin(headers)
            if target is None:
                left += 1
                log.warning("dead letter %s has no x-death origin: left in the DLQ",
                            message.properties.get("message_id"))
                continue  # unacked: the broker returns it to the DLQ when we disconnect
            properties = {k: v for k, v in message.properties.items()
                          if k != "application_headers"}
            for key in _BROKER_HEADERS:
                headers.pop(key, None)
            channel.basic_publish(amqp.Message(message.body, application_headers=headers,
                                               **properties),
                                  exchange=target[0], routing_key=target[1], mandatory=True)
            channel.basic_ack(message.delivery_tag)
            replayed += 1
    finally:
        conn.close()
    return replayed, left
