"""Where a phase's time went, from the services' own Prometheus histograms: handler time per
batch and batch size per queue, and the ranking pass. Scraped at a phase's start and end and
differenced, so each phase shows only its own observations."""

from __future__ import annotations

import math
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

HISTOGRAMS = ("parpulse_handler_duration_seconds", "parpulse_consumer_batch_size",
              "parpulse_ranking_pass_seconds")

Key = tuple[str, str]  # (histogram, "service queue" or "")


@dataclass
class Histo:
    count: float = 0.0
    total: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound -> cumulative

    def minus(self, other: Histo) -> Histo:
        return Histo(self.count - other.count, self.total - other.total,
                     {le: n - other.buckets.get(le, 0.0) for le, n in self.buckets.items()})

    def quantile(self, q: float) -> float:
        """The upper bound of the bucket holding the q-th observation (an upper estimate)."""
        wanted = q * self.count
        for le in sorted(self.buckets):
            if self.buckets[le] >= wanted:
                return le
        return math.inf


def scrape(addresses: list[str]) -> dict[Key, Histo]:
    """The histograms of every process, summed per key (replicas together)."""
    found: dict[Key, Histo] = defaultdict(Histo)
    for address in addresses:
        try:
            with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            continue  # a process that just stopped: its figures are gone with it
        for family in text_string_to_metric_families(text):
            if family.name not in HISTOGRAMS:
                continue
            for s in family.samples:
                where = " ".join(s.labels[k] for k in ("service", "queue", "periods")
                                 if k in s.labels)
                h = found[(family.name, where)]
                if s.name.endswith("_count"):
                    h.count += s.value
                elif s.name.endswith("_sum"):
                    h.total += s.value
                elif s.name.endswith("_bucket"):
                    le = float(s.labels["le"])
                    h.buckets[le] = h.buckets.get(le, 0.0) + s.value
    return dict(found)


def difference(end: dict[Key, Histo], start: dict[Key, Histo]) -> dict[Key, Histo]:
    return {k: h.minus(start[k]) if k in start else h for k, h in end.items()}


def describe(histos: dict[Key, Histo]) -> list[str]:
    """One line per queue (handler time and batch size) and one for the ranking pass."""
    lines = []
    for (name, where), h in sorted(histos.items()):
        if h.count <= 0 or name == "parpulse_consumer_batch_size":
            continue
        mean, p95 = h.total / h.count * 1000, h.quantile(0.95) * 1000
        if name == "parpulse_ranking_pass_seconds":
            lines.append(f"ranking pass ({where}): {h.count:.0f} passes, mean {mean:.0f} ms, "
                         f"p95 <= {p95:.0f} ms")
            continue
        size = histos.get(("parpulse_consumer_batch_size", where))
        per_batch = f", {size.total / size.count:.0f} messages per batch" \
            if size and size.count > 0 else ""
        lines.append(f"{where}: {h.count:.0f} batches, mean {mean:.0f} ms, "
                     f"p95 <= {p95:.0f} ms{per_batch}")
    return lines
