"""Measuring the running platform: the maximum-rate run, waiting for quiet, and a sampler of
queue and outbox backlogs printed every couple of seconds."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from pipeline_infra import QueueDepths, Scrape, scrape
from pipeline_procs import Platform

from services.integrator import InboundPublisher, OutboundMessage

INBOUND, SCORING_Q = "dossiers.inbound", "scoring.dossier-events"
QUEUES = (INBOUND, SCORING_Q, "notifications.dossier-events", "gateway.events", "gateway.live")
OUTBOXES = ("dossiers", "scoring", "notifications")


class Sampler(threading.Thread):
    """Every `every` seconds: ready messages per queue, outbox backlogs, consume rates."""

    HEADER = (f"{'t(s)':>6} {'phase':<12} {'q:inbound':>9} {'q:scoring':>9} {'q:notif':>8} "
              f"{'q:gw':>6} {'q:live':>6} {'ob:dos':>7} {'ob:sco':>7} {'ob:not':>7} "
              f"{'dos/s':>7} {'sco/s':>7}")

    def __init__(self, url: str, platform: Platform, every: float = 2.0) -> None:
        super().__init__(daemon=True, name="sampler")
        self.url, self.platform, self.every = url, platform, every
        self.phase = "start"
        self.stopping = threading.Event()
        self.rows: list[str] = []
        self.started = time.monotonic()

    def run(self) -> None:
        depths = QueueDepths(self.url)
        last: tuple[float, float, float] | None = None
        print(self.HEADER, flush=True)
        try:
            while not self.stopping.wait(self.every):
                try:
                    s = scrape(self.platform.addresses(), timeout=5)
                except OSError:
                    continue
                now = time.monotonic()
                ready = [depths.ready(q) for q in QUEUES]
                d, c = s.queue_total(INBOUND), s.queue_total(SCORING_Q)
                rates = ((d - last[1]) / (now - last[0]), (c - last[2]) / (now - last[0])) \
                    if last else (0.0, 0.0)
                last = (now, d, c)
                cells = " ".join(f"{'-' if r is None else r:>{w}}"
                                 for r, w in zip(ready, (9, 9, 8, 6, 6), strict=True))
                obs = " ".join(f"{s.backlog.get(o, 0):>7.0f}" for o in OUTBOXES)
                row = (f"{now - self.started:>6.0f} {self.phase:<12} {cells} {obs} "
                       f"{rates[0]:>7.0f} {rates[1]:>7.0f}")
                self.rows.append(row)
                print(row, flush=True)
        finally:
            depths.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


def wait_idle(url: str, platform: Platform, timeout: float) -> bool:
    """True once the dossiers and scoring queues are empty and the outboxes drained."""
    depths = QueueDepths(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            s = scrape(platform.addresses())
            if all(depths.ready(q) in (0, None) for q in QUEUES) and not any(
                    s.backlog.get(o, 0) for o in OUTBOXES):
                time.sleep(1.2)  # the backlog gauge is refreshed about once a second
                s2 = scrape(platform.addresses())
                if _counts(s2) == _counts(s) and not any(s2.backlog.get(o, 0) for o in OUTBOXES):
                    return True
            time.sleep(0.5)
        return False
    finally:
        depths.close()


def _counts(s: Scrape) -> tuple[float, ...]:
    return (*tuple(s.queue_total(q) for q in QUEUES), s.published.get("dossiers", 0.0))


@dataclass
class MaxResult:
    inbound: int
    seconds: float
    publish_seconds: float
    dossier_events: float  # folded by scoring
    quarantined: float
    drained: bool
    dossiers_seconds: float  # until dossiers alone had consumed every inbound message

    @property
    def rate(self) -> float:
        return self.inbound / self.seconds


def max_run(url: str, platform: Platform, messages: list[OutboundMessage],
            timeout: float) -> MaxResult:
    """Publishes everything as fast as InboundPublisher goes; the clock stops when dossiers
    consumed every message and scoring every dossier event they caused (outboxes drained)."""
    n = len(messages)
    base = scrape(platform.addresses())
    published_at: list[float] = []

    def publish() -> None:
        with InboundPublisher(url) as publisher:
            publisher.publish_many(messages)
        published_at.append(time.monotonic())

    started = time.monotonic()
    thread = threading.Thread(target=publish, daemon=True, name="max-publisher")
    thread.start()
    candidate: tuple[float, float] | None = None
    last: dict[str, Any] = {}
    dossiers_done = float("nan")
    while time.monotonic() - started < timeout:
        time.sleep(0.25)
        t = time.monotonic()
        s = scrape(platform.addresses())
        d = s.queue_total(INBOUND) - base.queue_total(INBOUND)
        q = s.outcome(INBOUND, "quarantined") - base.outcome(INBOUND, "quarantined")
        p = s.published.get("dossiers", 0.0) - base.published.get("dossiers", 0.0)
        c = s.queue_total(SCORING_Q) - base.queue_total(SCORING_Q)
        last = {"d": d, "q": q, "c": c}
        if d >= n and math.isnan(dossiers_done):
            dossiers_done = t - started
        if d >= n and c >= p - q:
            if candidate is None or candidate[1] != p:
                candidate = (t, p)
            elif t - candidate[0] >= 1.5 and not s.backlog.get("dossiers") and not \
                    s.backlog.get("scoring"):
                thread.join(5)
                return MaxResult(n, candidate[0] - started, published_at[0] - started, c, q, True,
                                 dossiers_done)
        else:
            candidate = None
    thread.join(30)
    elapsed = time.monotonic() - started
    pub = (published_at[0] - started) if published_at else elapsed
    return MaxResult(int(last.get("d", 0)), elapsed, pub, last.get("c", 0.0),
                     last.get("q", 0.0), False, dossiers_done)
