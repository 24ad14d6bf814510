"""Metrics of the scoring service."""

from __future__ import annotations

from prometheus_client import Histogram

RANKING_PASS_SECONDS = Histogram(
    "parpulse_ranking_pass_seconds",
    "Time one ranking pass took, commits included, by pass: month (every RANKING_INTERVAL) or "
    "longer (quarter, year, rolling-30; every RANKING_LONG_INTERVAL).",
    ["periods"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
