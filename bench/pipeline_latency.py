"""Publish-to-dashboard latency: probes timed from publish to the ranking change on the SSE
stream, under a paced background load.

Method. A probe is a new dossier accepted "now" in a commune the load never touches (see
pipeline_traffic.Probes); it changes that commune's score. Every ~0.5 s, if no probe is
outstanding, one is published (the clock starts before the publish call); the latency is the
time until a `ranking` event for the current month arrives on GET /api/v1/stream whose entry for
that commune differs (score_100, total) from the last one seen (the month is what the dashboard
opens on; the quarter, the year and rolling-30 are refreshed at most every
RANKING_LONG_INTERVAL, and how often each really was is reported from the same stream). Only
one probe is outstanding at a time, so a change is attributed to exactly one probe; a probe
unanswered within the timeout counts as a miss (and as the timeout in the percentiles).
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pipeline_traffic import Probes

from services.integrator import InboundPublisher, native_message

Signature = tuple[Any, Any]


class SseReader(threading.Thread):
    """Reads `ranking` events from the gateway's stream and hands each to `on_ranking`."""

    def __init__(self, address: str, on_ranking: Callable[[float, dict[str, Any]], None]) -> None:
        super().__init__(daemon=True, name="sse-reader")
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.on_ranking = on_ranking
        self.connected = threading.Event()
        self.stopping = False
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.conn.request("GET", "/api/v1/stream", headers={"Accept": "text/event-stream"})
            resp = self.conn.getresponse()
            if resp.status != 200:
                raise RuntimeError(f"stream answered {resp.status}: {resp.read(300)!r}")
            self.connected.set()
            kind, data = "", ""
            while not self.stopping:
                line = resp.readline()
                if not line:
                    break
                text = line.decode().rstrip("\n")
                if text.startswith("event:"):
                    kind = text[6:].strip()
                elif text.startswith("data:"):
                    data += text[5:].strip()
                elif text == "":
                    if kind == "ranking" and data:
                        self.on_ranking(time.monotonic(), json.loads(data))
                    kind, data = "", ""
        except Exception as exc:
            if not self.stopping:
                self.error = repr(exc)
        finally:
            self.connected.set()

    def stop(self) -> None:
        self.stopping = True
        try:
            if self.conn.sock is not None:
                self.conn.sock.shutdown(2)
        except OSError:
            pass
        self.conn.close()


class ProbeTracker:
    """Knows every probe commune's last signature seen on the stream and the outstanding probe."""

    def __init__(self, units: list[str], month: str) -> None:
        self.units = set(units)
        self.month = month
        self.seen: dict[str, Signature] = {}
        self.lock = threading.Lock()
        self.answered = threading.Event()
        self.outstanding: tuple[str, float, Signature] | None = None
        self.latency: float | None = None
        self.rankings = 0
        # Seconds between consecutive ranking events of one (scheme, level, period), by kind.
        self.gaps: dict[str, list[float]] = {}
        self._last_at: dict[tuple[str, str, str], float] = {}

    def arm(self, unit: str, published_at: float) -> None:
        with self.lock:
            self.answered.clear()
            self.latency = None
            self.outstanding = (unit, published_at, self.seen.get(unit, (None, None)))

    def disarm(self) -> None:
        with self.lock:
            self.outstanding = None

    def on_ranking(self, arrived: float, body: dict[str, Any]) -> None:
        with self.lock:
            self.rankings += 1
            period = str(body.get("period"))
            key = (str(body.get("scheme")), str(body.get("level")), period)
            if key in self._last_at:
                self.gaps.setdefault(period_kind(period), []).append(arrived - self._last_at[key])
            self._last_at[key] = arrived
            if period != self.month:
                return
            for e in body.get("entries", ()):
                unit = e.get("unit_code")
                if unit not in self.units:
                    continue
                score = e.get("score_100")
                sig = (score, e.get("total") if score is not None else None)
                self.seen[unit] = sig
                out = self.outstanding
                if out is not None and out[0] == unit and sig != out[2]:
                    self.latency = arrived - out[1]
                    self.outstanding = None
                    self.answered.set()


def period_kind(period: str) -> str:
    if period.startswith("rolling"):
        return "rolling-30"
    return "quarter" if "Q" in period else "year" if len(period) == 4 else "month"


def paced_load(url: str, events: list[dict[str, Any]], rate: float, stop: threading.Event,
               sent: list[int]) -> None:
    """Publishes `events` at `rate` per second in 0.1 s slices (confirmed before the next)."""
    messages = [native_message(e) for e in events]
    with InboundPublisher(url) as publisher:
        started, i = time.monotonic(), 0
        while i < len(messages) and not stop.is_set():
            due = int((time.monotonic() - started) * rate) + 1
            if due > i:
                batch = messages[i:min(due, len(messages))]
                publisher.publish_many(batch)
                i += len(batch)
                sent[0] = i
            time.sleep(0.1 - (time.monotonic() - started) % 0.1)


def probe_run(url: str, tracker: ProbeTracker, probes: Probes, now: Callable[[], datetime],
              duration: float, interval: float = 0.5, timeout: float = 5.0,
              ) -> tuple[list[float], int]:
    """Probes for `duration` seconds; returns the latencies (misses as `timeout`) and misses."""
    latencies, misses = [], 0
    with InboundPublisher(url) as publisher:
        end = time.monotonic() + duration
        while time.monotonic() < end:
            tick = time.monotonic()
            unit, body = probes.next(now())
            message = native_message(body)
            published = time.monotonic()
            tracker.arm(unit, published)
            publisher.publish_many([message])
            if tracker.answered.wait(timeout) and tracker.latency is not None:
                latencies.append(tracker.latency)
            else:
                tracker.disarm()
                misses += 1
                latencies.append(timeout)
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    return latencies, misses


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), math.ceil(p / 100 * len(ordered)))) - 1]
