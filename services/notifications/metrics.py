"""Prometheus metrics of the notifications service. Labels are bounded: alert kind, channel,
outcome; never a dossier code, an alert key or an address."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ALERTS_RAISED = Counter(
    "parpulse_alerts_raised_total", "Alerts raised (new keys only), by kind.", ["kind"]
)
DELIVERIES = Counter(
    "parpulse_notification_deliveries_total",
    "Deliveries attempted, by channel and outcome (delivered, failed, blocked).",
    ["channel", "outcome"],
)
DELIVERY_LATENCY = Histogram(
    "parpulse_notification_delivery_latency_seconds",
    "From the moment a delivery was due (after quiet hours) to its successful send.",
    ["channel"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
