"""A nameko consumer that never loses a message.

nameko's own `@consume` and `@event_handler` ack a message whose handler raised. This one hands
the handler the raw message (so malformed bodies can be quarantined whole), acks only after the
handler returned (its transaction committed), and on failure returns the message to its quorum
queue, which counts deliveries and dead-letters it to `<queue>.dlq` past `x-delivery-limit`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import eventlet
from kombu import Connection, Exchange
from kombu.common import maybe_declare
from nameko import config
from nameko.amqp.consume import Consumer as ConsumerCore
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, decode_from_headers
from nameko.timer import Timer

from .metrics import HANDLER_SECONDS, MESSAGES_CONSUMED, MESSAGES_DEAD_LETTERED
from .topology import (
    DEFAULT_DELIVERY_LIMIT,
    base_entities,
    dead_letter_queue,
    quorum_queue,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundMessage:
    """What a reliable handler receives: the message exactly as the broker delivered it."""

    body: bytes
    message_id: str | None
    message_type: str | None
    routing_key: str
    headers: dict[str, Any] = field(default_factory=dict)
    content_type: str | None = None
    delivery_count: int = 0

    @property
    def format(self) -> str | None:
        return self.headers.get("parpulse-format") or self.message_type


class _RawConsumerCore(ConsumerCore):
    """kombu's `on_message` hook hands over the undecoded message: a body that is not JSON must
    reach the handler to be quarantined, not kill the consumer in kombu's decoder."""

    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Any]:
        consumer = consumer_cls(
            queues=self.queues, on_message=self._on_raw, accept=None, **self.consumer_options
        )
        consumer.qos(prefetch_count=self.prefetch_count)
        return [consumer]

    def _on_raw(self, message: Any) -> None:
        self.on_message(message.body, message)


class ReliableConsumer(Consumer):
    consumer_cls = _RawConsumerCore

    def __init__(self, queue_name: str, exchange: Exchange, routing_keys: list[str],
                 service: str, **kwargs: Any) -> None:
        self.queue_name = queue_name
        self.exchange = exchange
        self.routing_keys = routing_keys
        self.service = service
        super().__init__(queue=None, requeue_on_error=True, **kwargs)

    def setup(self) -> None:
        limit = int(config.get("DELIVERY_LIMIT", DEFAULT_DELIVERY_LIMIT))
        self.queue = quorum_queue(self.queue_name, self.exchange, self.routing_keys, limit)
        self.consumer_options.setdefault(
            "prefetch_count", int(config.get("max_workers", 10)) * 2
        )
        with Connection(config["AMQP_URI"]) as conn:
            channel = conn.channel()
            for entity in [*base_entities(), dead_letter_queue(self.queue_name)]:
                maybe_declare(entity, channel)
            maybe_declare(self.queue, channel)
        super().setup()

    def handle_message(self, body: bytes, message: Any) -> None:
        props = message.properties
        headers = dict(message.headers or {})
        inbound = InboundMessage(
            body=body if isinstance(body, bytes) else str(body).encode(),
            message_id=props.get("message_id"),
            message_type=props.get("type"),
            routing_key=message.delivery_info.get("routing_key", ""),
            headers=headers,
            content_type=message.content_type,
            delivery_count=int(headers.get("x-delivery-count") or 0),
        )
        started = time.perf_counter()
        handle_result = partial(self._finish, message, inbound, started)
        context_data = decode_from_headers(
            {k: v for k, v in headers.items() if k.startswith("nameko.")}
        )
        if "correlation_id" in headers:
            context_data["correlation_id"] = headers["correlation_id"]

        def spawn_worker() -> None:
            try:
                self.container.spawn_worker(
                    self, (inbound,), {}, context_data=context_data, handle_result=handle_result
                )
            except ContainerBeingKilled:
                self.consumer.requeue_message(message)

        self.container.spawn_managed_thread(spawn_worker)

    def _finish(self, message: Any, inbound: InboundMessage, started: float, worker_ctx: Any,
                result: Any = None, exc_info: Any = None) -> tuple[Any, Any]:
        HANDLER_SECONDS.labels(self.service, self.queue_name).observe(
            time.perf_counter() - started
        )
        if exc_info is None:
            outcome = result if isinstance(result, str) else "processed"
            MESSAGES_CONSUMED.labels(self.service, self.queue_name, outcome).inc()
            self._settle(self.consumer.ack_message, message)
            return result, exc_info
        MESSAGES_CONSUMED.labels(self.service, self.queue_name, "failed").inc()
        MESSAGES_DEAD_LETTERED.labels(self.service, self.queue_name).inc()
        log.warning(
            "handler failed on %s (delivery %d): %s; returning it to %s",
            inbound.message_id, inbound.delivery_count, exc_info[1], self.queue_name,
        )
        # Back off a little so a failing dependency (database restart) is not hammered; the
        # quorum queue's delivery limit bounds how often this happens to one message.
        eventlet.sleep(min(0.05 * (2 ** inbound.delivery_count), 2.0))
        self._settle(self.consumer.requeue_message, message)
        return result, exc_info

    def _settle(self, action: Any, message: Any) -> None:
        # The connection may die between the commit and the ack (a socket error nameko does
        # not catch): the broker redelivers the unacked message on the new connection and the
        # idempotent handler makes that a no-op. Raising here would kill the whole container.
        try:
            action(message)
        except OSError as exc:
            log.warning("could not settle message %s: %s; the broker will redeliver it",
                        message.properties.get("message_id"), exc)


reliable_consume = ReliableConsumer.decorator


class ConfiguredTimer(Timer):
    """A timer whose interval comes from configuration (read at start, not at import)."""

    def __init__(self, config_key: str, default: float, **kwargs: Any) -> None:
        self.config_key = config_key
        self.default_interval = default
        super().__init__(interval=default, **kwargs)

    def setup(self) -> None:
        self.interval = float(config.get(self.config_key, self.default_interval))
        super().setup()

    def stop(self) -> None:
        # A second SIGTERM (or Ctrl-C then SIGTERM) stops twice; nameko's Timer would raise.
        if not self.should_stop.ready():
            super().stop()


configured_timer = ConfiguredTimer.decorator
