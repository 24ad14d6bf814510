"""A nameko consumer that never loses a message and takes them in batches.

nameko's own `@consume` and `@event_handler` ack a message whose handler raised, and run one
worker (one transaction) per message. This one hands the handler a batch of raw messages (so
malformed bodies can be quarantined whole): everything the broker has delivered and no worker
holds yet, up to BATCH_SIZE, gathered for at most BATCH_LINGER (50 ms) when fewer are
waiting. Under light load a batch is one message, delayed by that much; under load one
transaction and one `multiple` ack cover many. The handler returns one outcome per
message (a string, for metrics), and the batch is acked once it returned (its transaction
committed). If it raises, the batch is retried in halves (services.common.batch) and only the
messages that fail alone go back to their quorum queue, which counts deliveries and
dead-letters them to `<queue>.dlq` past `x-delivery-limit`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import eventlet
from eventlet.queue import Empty, LightQueue
from eventlet.semaphore import Semaphore
from kombu import Connection, Exchange
from kombu.common import maybe_declare
from nameko import config
from nameko.amqp.consume import Consumer as ConsumerCore
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, decode_from_headers
from nameko.timer import Timer

from . import amqp_reads
from .acks import AckWindow
from .batch import split_after
from .metrics import BATCH_SIZE, HANDLER_SECONDS, MESSAGES_CONSUMED, MESSAGES_DEAD_LETTERED
from .topology import (
    DEFAULT_DELIVERY_LIMIT,
    base_entities,
    dead_letter_queue,
    quorum_queue,
)

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
DEFAULT_BATCH_WORKERS = 2
DEFAULT_BATCH_LINGER = 0.05  # seconds

# What a handler says of each message: an outcome for metrics, or why it must be retried.
Outcome = str | BaseException


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

    @property
    def correlation_id(self) -> str | None:
        """Follows a dossier from intake to alert: set by the first service to see it."""
        return self.headers.get("correlation_id") or self.message_id


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


def inbound_of(message: Any) -> InboundMessage:
    headers = dict(message.headers or {})
    body = message.body
    return InboundMessage(
        body=body if isinstance(body, bytes) else str(body).encode(),
        message_id=message.properties.get("message_id"),
        message_type=message.properties.get("type"),
        routing_key=message.delivery_info.get("routing_key", ""),
        headers=headers,
        content_type=message.content_type,
        delivery_count=int(headers.get("x-delivery-count") or 0),
    )


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
        amqp_reads.install()
        limit = int(config.get("DELIVERY_LIMIT", DEFAULT_DELIVERY_LIMIT))
        self.batch_size = max(1, int(config.get("BATCH_SIZE", DEFAULT_BATCH_SIZE)))
        self.batch_workers = max(1, int(config.get("BATCH_WORKERS", DEFAULT_BATCH_WORKERS)))
        self.batch_linger = max(0.0, float(config.get("BATCH_LINGER", DEFAULT_BATCH_LINGER)))
        self.queue = quorum_queue(self.queue_name, self.exchange, self.routing_keys, limit)
        # Enough for every batch worker to hold a full batch while the next one fills.
        self.consumer_options.setdefault(
            "prefetch_count", self.batch_size * (self.batch_workers + 1))
        with Connection(config["AMQP_URI"]) as conn:
            channel = conn.channel()
            for entity in [*base_entities(), dead_letter_queue(self.queue_name)]:
                maybe_declare(entity, channel)
            maybe_declare(self.queue, channel)
        super().setup()

    def start(self) -> None:
        self._inbox: LightQueue = LightQueue()
        self._slots = Semaphore(self.batch_workers)
        self._windows: dict[Any, AckWindow] = {}
        self._stopping = False
        self.container.spawn_managed_thread(self._dispatch,
                                            identifier=f"batcher[{self.queue_name}]")
        super().start()

    def stop(self) -> None:
        self._stopping = True
        super().stop()
        self._requeue_waiting()

    def handle_message(self, body: bytes, message: Any) -> None:
        # Runs in the AMQP consumer's thread, in delivery order: the window learns the order.
        self._window(message.channel).delivered(message.delivery_tag)
        self._inbox.put(message)

    def _window(self, channel: Any) -> AckWindow:
        window = self._windows.get(channel)
        if window is None:
            # A reconnect opens a new channel; windows of closed channels are dropped.
            self._windows = {c: w for c, w in self._windows.items() if c.is_open}
            window = self._windows[channel] = AckWindow(channel)
        return window

    def _dispatch(self) -> None:
        while True:
            first = self._inbox.get()
            if self.batch_linger and self._inbox.qsize() < self.batch_size - 1:
                # A moment for what is already on its way: at a steady trickle, one batch of
                # ten costs the database one commit instead of ten.
                eventlet.sleep(self.batch_linger)
            self._slots.acquire()
            # While every worker was busy, deliveries piled up: they all go in this batch.
            batch = [first]
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._inbox.get_nowait())
                except Empty:
                    break
            if self._stopping:
                self._slots.release()
                self._reject_all(batch)
                continue
            self._spawn(batch)

    def _spawn(self, batch: list[Any]) -> None:
        inbound = [inbound_of(m) for m in batch]
        handle_result = partial(self._finish, batch, inbound, time.perf_counter())
        first = batch[0].headers or {}
        context_data = decode_from_headers(
            {k: v for k, v in first.items() if k.startswith("nameko.")})
        try:
            self.container.spawn_worker(self, (inbound,), {}, context_data=context_data,
                                        handle_result=handle_result)
        except ContainerBeingKilled:
            self._slots.release()
            self._reject_all(batch)

    def _finish(self, batch: list[Any], inbound: list[InboundMessage], started: float,
                worker_ctx: Any, result: Any = None, exc_info: Any = None) -> tuple[Any, Any]:
        try:
            outcomes: list[Outcome]
            if exc_info is not None:
                outcomes = self._blame(worker_ctx, inbound, exc_info[1])
            else:
                try:
                    outcomes = list(_outcomes(result, len(batch)))
                except RuntimeError as exc:
                    outcomes = [exc] * len(batch)
            HANDLER_SECONDS.labels(self.service, self.queue_name).observe(
                time.perf_counter() - started)
            BATCH_SIZE.labels(self.service, self.queue_name).observe(len(batch))
            self._settle(batch, inbound, outcomes)
        finally:
            self._slots.release()
        return result, exc_info

    def _blame(self, worker_ctx: Any, inbound: list[InboundMessage],
               exc: BaseException) -> list[Outcome]:
        """The batch failed: retry it in halves, in this worker (its dependencies are still
        injected), so that only the messages that fail on their own go back to the queue."""
        method = getattr(worker_ctx.service, self.method_name)
        return split_after(inbound, exc, lambda part: _outcomes(method(part), len(part)))

    def _settle(self, batch: list[Any], inbound: list[InboundMessage],
                outcomes: Sequence[Outcome]) -> None:
        done: dict[Any, list[int]] = {}
        failed: list[tuple[Any, InboundMessage, BaseException]] = []
        for message, item, outcome in zip(batch, inbound, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                failed.append((message, item, outcome))
                continue
            MESSAGES_CONSUMED.labels(self.service, self.queue_name, outcome).inc()
            done.setdefault(message.channel, []).append(message.delivery_tag)
        for channel, tags in done.items():
            self._window(channel).ack(tags)
        if not failed:
            return
        for _, item, exc in failed:
            MESSAGES_CONSUMED.labels(self.service, self.queue_name, "failed").inc()
            MESSAGES_DEAD_LETTERED.labels(self.service, self.queue_name).inc()
            log.warning("handler failed on %s (delivery %d): %s; returning it to %s",
                        item.message_id, item.delivery_count, exc, self.queue_name)
        # Back off a little so a failing dependency (database restart) is not hammered; the
        # quorum queue's delivery limit bounds how often this happens to one message.
        worst = max(item.delivery_count for _, item, _ in failed)
        eventlet.sleep(min(0.05 * (2 ** worst), 2.0))
        self._reject_all([m for m, _, _ in failed])

    def _reject_all(self, messages: list[Any]) -> None:
        for message in messages:
            self._window(message.channel).reject(message)

    def _requeue_waiting(self) -> None:
        waiting = []
        while True:
            try:
                waiting.append(self._inbox.get_nowait())
            except Empty:
                break
        self._reject_all(waiting)


def _outcomes(result: Any, count: int) -> list[str]:
    if isinstance(result, str):
        return [result] * count
    if result is None:
        return ["processed"] * count
    outcomes = [str(o) for o in result]
    if len(outcomes) != count:
        raise RuntimeError(f"handler returned {len(outcomes)} outcomes for {count} messages")
    return outcomes


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
