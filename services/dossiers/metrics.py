"""Metrics of the dossiers service. `unit` is a unit code from the registry: bounded."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

DOSSIERS_OPEN = Gauge(
    "parpulse_dossiers_open",
    "Open dossiers per unit and deadline state, as of the last sweep.",
    ["unit", "state"],
)
DOSSIERS_COMPLETED = Counter(
    "parpulse_dossiers_completed_total",
    "Dossiers completed, by outcome against the due date (withdrawn counts as on time).",
    ["unit", "outcome"],
)
SWEEPER_LAST_RUN = Gauge(
    "parpulse_sweeper_last_run_timestamp_seconds",
    "Unix time the last due-soon/overdue sweep completed.",
    ["service"],
)

# The deadline states of the metric, from the dossier's own states.
METRIC_STATES = {"within": "within_deadline", "due_soon": "due_soon", "overdue": "overdue"}
