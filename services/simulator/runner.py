"""Plays generated traffic against the broker in (scaled) real time, at a target event rate."""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from services.contracts.inbound import FORMAT_DVCQG_SYNC, FORMAT_NATIVE
from services.integrator.messages import (
    OutboundMessage,
    PublishError,
    dvcqg_progress_message,
    dvcqg_sync_message,
    native_message,
)

from .clock import VN_TZ, SimClock, is_office_day
from .model import Emission, ProvinceLike
from .traffic import TrafficConfig, TrafficGenerator

log = logging.getLogger(__name__)

MAX_DOSSIERS_PER_CALL = 50
MAX_ATTEMPTS = 3


class Publisher(Protocol):
    def publish(self, message: OutboundMessage) -> str: ...
    def flush(self) -> int: ...


@dataclass
class RunStats:
    dossiers: int = 0
    events: int = 0  # lifecycle steps sent (a DVCQG call may carry several)
    messages: int = 0  # messages handed to the publisher, retries included
    confirmed: int = 0
    failed: int = 0  # given up after MAX_ATTEMPTS
    pending_steps: int = 0  # planned for later simulated times when the run stopped
    by_format: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    sim_start: datetime | None = None
    sim_now: datetime | None = None

    def summary(self) -> str:
        return (f"{self.dossiers} dossiers, {self.events} events in {self.messages} messages, "
                f"{self.confirmed} confirmed, {self.failed} failed, simulated time "
                f"{self.sim_start:%Y-%m-%d %H:%M} -> {self.sim_now:%Y-%m-%d %H:%M}")


def run(
    publisher: Publisher,
    province: ProvinceLike,
    rate_per_s: float,
    speed: float,
    duration_s: float | None,
    seed: int,
    dvcqg_share: float,
    stop_event: threading.Event,
    *,
    start: datetime | None = None,
    config: TrafficConfig | None = None,
    off_hours_arrivals: float = 0.25,
    tick_s: float = 0.1,
    wall: Callable[[], float] = time.monotonic,
    progress: Callable[[RunStats], None] | None = None,
    progress_every_s: float = 10.0,
) -> RunStats:
    """Publishes until `duration_s` of wall time has passed or `stop_event` is set.

    Steps due on the simulated clock go first; spare capacity starts new dossiers, fewer
    (`off_hours_arrivals`) at night and at weekends. Each tick's messages are flushed before the
    next tick, so `confirmed` is exact when this returns."""
    if rate_per_s <= 0:
        raise ValueError("rate_per_s must be positive")
    rng = random.Random(seed)
    generator = TrafficGenerator(province, rng, replace(config or TrafficConfig(),
                                                        dvcqg_share=dvcqg_share))
    clock = SimClock(start or datetime.now(VN_TZ), speed, wall)
    stats = RunStats(sim_start=clock.start, sim_now=clock.start)
    planned: list[tuple[datetime, int, Emission]] = []
    order = itertools.count()
    retry: list[tuple[OutboundMessage, int]] = []
    began = last = last_report = wall()
    tokens = 0.0
    while not stop_event.is_set() and (duration_s is None or wall() - began < duration_s):
        now_wall = wall()
        tokens = min(tokens + (now_wall - last) * rate_per_s, max(rate_per_s, 1.0))
        last = now_wall
        now = stats.sim_now = clock.now()
        due: list[Emission] = []
        while planned and planned[0][0] <= now and tokens >= 1:
            due.append(heapq.heappop(planned)[2])
            tokens -= 1
        while tokens >= 1:
            tokens -= 1
            if not is_office_day(now) and rng.random() >= off_hours_arrivals:
                continue
            first, *later = generator.new_dossier(now)
            stats.dossiers += 1
            due.append(first)
            for step in later:
                heapq.heappush(planned, (step.at, next(order), step))
        batch = [(m, 1) for m in to_messages(due)] + [(m, n + 1) for m, n in retry]
        retry = _send(publisher, batch, stats)
        stats.events += len(due)
        stats.by_format.update(e.fmt for e in due)
        stats.by_status.update(int(e.status) for e in due)
        if progress and now_wall - last_report >= progress_every_s:
            last_report = now_wall
            progress(stats)
        stop_event.wait(tick_s)
    if retry:
        retry = _send(publisher, [(m, n + 1) for m, n in retry], stats)
    stats.failed += len(retry)
    stats.pending_steps = len(planned)
    return stats


def _send(
    publisher: Publisher, batch: list[tuple[OutboundMessage, int]], stats: RunStats
) -> list[tuple[OutboundMessage, int]]:
    """Publishes and flushes; returns what to try again (same message ids, so no duplicates
    reach the dossiers service's state)."""
    if not batch:
        return []
    attempts = {m.message_id: n for m, n in batch}
    for message, _ in batch:
        publisher.publish(message)
    stats.messages += len(batch)
    try:
        stats.confirmed += publisher.flush()
        return []
    except PublishError as exc:
        stats.confirmed += exc.confirmed
        log.warning("publish failed, will retry: %s", exc)
        again = [(f.message, attempts.get(f.message.message_id, MAX_ATTEMPTS))
                 for f in exc.failed]
        stats.failed += sum(1 for _, n in again if n >= MAX_ATTEMPTS)
        return [(m, n) for m, n in again if n < MAX_ATTEMPTS]


def to_messages(emissions: Iterable[Emission]) -> list[OutboundMessage]:
    """Native steps one per message; DVCQG steps grouped per call type and unit as a provincial
    system batches its sync calls, never putting two steps of one dossier in one tick's calls
    out of order."""
    out: list[OutboundMessage] = []
    groups: dict[tuple[str, str, bool], list[Emission]] = {}
    in_groups: set[str] = set()

    def close_groups() -> None:
        for (fmt, unit, updating), items in groups.items():
            data = [e.payload for e in items]
            if fmt == FORMAT_DVCQG_SYNC:
                body = {"service": "DongBoHoSoMC", "isUpdating": str(updating), "data": data}
                out.append(dvcqg_sync_message(body, unit_code=unit))
            else:
                body = {"service": "CapNhatTienDoHoSoMC", "data": data}
                out.append(dvcqg_progress_message(body, unit_code=unit))
        groups.clear()
        in_groups.clear()

    for e in emissions:
        if e.fmt == FORMAT_NATIVE:
            out.append(native_message(e.payload))
            continue
        key = (e.fmt, e.unit_code, e.updating)
        if e.dossier_code in in_groups or len(groups.get(key, ())) >= MAX_DOSSIERS_PER_CALL:
            close_groups()
        groups.setdefault(key, []).append(e)
        in_groups.add(e.dossier_code)
    close_groups()
    return out
