"""Prometheus metrics of the shared kit. Labels are bounded: service, queue, format, outcome,
reason code; never a dossier code or a message id."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_CONSUMED = Counter(
    "parpulse_messages_consumed_total",
    "Messages taken from a queue, by outcome (processed, duplicate, quarantined, failed).",
    ["service", "queue", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "parpulse_handler_duration_seconds",
    "Time spent handling one batch of messages, commit included.",
    ["service", "queue"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BATCH_SIZE = Histogram(
    "parpulse_consumer_batch_size",
    "Messages handled together in one transaction.",
    ["service", "queue"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
MESSAGES_DEAD_LETTERED = Counter(
    "parpulse_messages_redelivery_rejected_total",
    "Handler failures returned to the queue; past the delivery limit the broker dead-letters.",
    ["service", "queue"],
)
OUTBOX_PUBLISHED = Counter(
    "parpulse_outbox_published_total", "Outbox rows published and confirmed.", ["service"]
)
OUTBOX_BACKLOG = Gauge("parpulse_outbox_backlog", "Outbox rows not yet confirmed.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "parpulse_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row.", ["service"]
)
QUARANTINED = Counter(
    "parpulse_quarantined_total",
    "Inbound items quarantined, by format and reason code.",
    ["service", "format", "reason"],
)
