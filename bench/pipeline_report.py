"""What the pipeline benchmark prints: each phase as it ends, then the targets."""

from __future__ import annotations

import argparse
import math
import os
import platform as host
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from pipeline_latency import percentile
from pipeline_procs import SERVICES, Platform
from pipeline_replay import YEAR_DOSSIERS, YEAR_EVENTS_PER_DOSSIER, ReplayResult
from pipeline_runs import MaxResult, Sampler

RSS_TARGET_MB, RATE_TARGET, P99_TARGET, REPLAY_TARGET = 250, 1000, 1.0, 20000


@dataclass
class Phase:
    name: str
    cpu: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    machine: float = 0.0  # busy CPU seconds of the whole machine (every process, ours or not)
    events: int = 0  # inbound events processed, for the maximum-rate phases
    infra: dict[str, float] = field(default_factory=dict)  # broker and database server


def _infra_cpu() -> dict[str, float]:
    """CPU seconds of the broker and the database server. PostgreSQL's backends come and go:
    the postmaster's reaped-children times hold the ones that exited, so alive backends plus
    those give every backend's CPU, exactly."""
    out = {"rabbitmq": 0.0, "postgresql": 0.0}
    for proc in psutil.process_iter(["name", "ppid"]):
        try:
            name, t = proc.info["name"] or "", proc.cpu_times()
        except psutil.Error:
            continue
        if name == "beam.smp":
            out["rabbitmq"] += t.user + t.system
        elif name in ("postgres", "postmaster"):
            out["postgresql"] += t.user + t.system
            if proc.info["ppid"] == 1 or not _is_postgres(proc.info["ppid"]):
                out["postgresql"] += t.children_user + t.children_system
    return out


def _is_postgres(pid: int) -> bool:
    try:
        return psutil.Process(pid).name() in ("postgres", "postmaster")
    except psutil.Error:
        return False


def _machine_busy() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return host.processor() or "unknown CPU"


class Report:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.clock_origin = time.monotonic()
        self.base_rate = float("nan")
        self.maxes: dict[str, MaxResult] = {}
        self.p99: dict[str, float] = {}
        self.phases: list[Phase] = []
        self.rss: dict[str, float] = {}
        self.replay_rate = float("nan")
        self.notes: list[str] = []
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"ParPulse pipeline benchmark: {os.cpu_count()} CPUs ({_cpu_model()}), "
              f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM, load average {load}")
        print(f"  events/run {args.events}, latency run {args.rate:g}/s for {args.duration:g}s "
              f"after {args.warmup:g}s of the same load, "
              f"MAX_WORKERS {args.max_workers}, replay of {args.replay_dossiers:,} dossiers x "
              f"{args.replay_events_per_dossier} events")

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}")

    def baseline(self, result: dict[str, float], n: int, size: int) -> None:
        self.base_rate = result["rate"]
        print(f"\n[1] raw broker baseline: pika, pipelined confirms (window 200), quorum queue, "
              f"{n} persistent {size}-byte messages, consumer process acking each (prefetch 20)")
        print(f"    publish+consume {result['rate']:>8.0f} msg/s   (publish alone "
              f"{result['publish_rate']:.0f} msg/s)")

    def phase_start(self, platform: Platform, name: str, sampler: Sampler | None) -> Phase:
        if sampler is not None:
            sampler.phase = name
        phase = Phase(name, {p.name: p.cpu_seconds() for p in platform.procs if p.alive})
        phase.seconds, phase.machine, phase.infra = time.monotonic(), _machine_busy(), _infra_cpu()
        return phase

    def phase_end(self, platform: Platform, phase: Phase, events: int = 0) -> None:
        phase.seconds = time.monotonic() - phase.seconds
        phase.machine = _machine_busy() - phase.machine
        phase.infra = {k: v - phase.infra.get(k, 0.0) for k, v in _infra_cpu().items()}
        phase.events = events
        phase.cpu = {p.name: p.cpu_seconds() - phase.cpu.get(p.name, 0.0)
                     for p in platform.procs if p.service in SERVICES and p.alive}
        self.phases.append(phase)

    def max_result(self, label: str, r: MaxResult) -> None:
        self.maxes[label] = r
        state = "" if r.drained else f"  NOT DRAINED within {r.seconds:.0f}s: processed so far"
        print(f"\n[2] platform at maximum, {label}: {r.inbound} inbound events in "
              f"{r.seconds:.1f}s (published in {r.publish_seconds:.1f}s){state}")
        print(f"    inbound events/s {r.rate:>8.0f}   dossier events folded by scoring/s "
              f"{r.dossier_events / r.seconds:>6.0f} ({r.dossier_events / max(1, r.inbound):.2f}"
              f" per inbound)   quarantined {r.quarantined:.0f}")
        print(f"    platform / raw broker baseline: {r.rate / self.base_rate:.3f}   (dossiers "
              f"alone consumed the inbound messages in {r.dossiers_seconds:.1f}s: "
              f"{r.inbound / r.dossiers_seconds:.0f}/s)")

    def latency(self, label: str, values: list[float], misses: int, achieved: float,
                rankings: int, gaps: dict[str, list[float]]) -> None:
        p50, p95, p99 = (percentile(values, p) for p in (50, 95, 99))
        self.p99[label] = p99
        print(f"\n[3] publish -> month ranking on SSE, {label}, background load {achieved:.0f} "
              f"events/s: {len(values)} probes, {misses} unanswered within 5s, "
              f"{rankings} ranking events received")
        print(f"    p50 {p50 * 1000:>6.0f} ms   p95 {p95 * 1000:>6.0f} ms   "
              f"p99 {p99 * 1000:>6.0f} ms   max {max(values, default=0) * 1000:.0f} ms")
        print("    seconds between updates of one ranking on the stream, p50 / p95: " + ", ".join(
            f"{kind} {percentile(g, 50):.1f} / {percentile(g, 95):.1f}"
            for kind, g in sorted(gaps.items())))

    def breakdown(self, lines: list[str]) -> None:
        """The services' own timings over the same window (their Prometheus histograms)."""
        print("    while probing, per consumer queue and for the ranking pass:")
        for line in lines:
            print(f"      {line}")

    def processes(self, platform: Platform) -> None:
        procs = [p for p in platform.procs if p.service in SERVICES]
        print("\n[4] CPU seconds per process and phase (wall seconds in brackets), peak RSS")
        print(f"    {'process':<36}" + "".join(f"{ph.name + f' ({ph.seconds:.0f})':>18}"
                                              for ph in self.phases) + f"{'peak RSS':>11}")
        for proc in procs:
            self.rss[proc.name] = proc.peak_rss_mb()
            cells = "".join(f"{ph.cpu[proc.name]:>18.1f}" if proc.name in ph.cpu
                            else f"{'-':>18}" for ph in self.phases)
            print(f"    {proc.name:<36}{cells}{self.rss[proc.name]:>8.0f} MB")
        for infra in ("rabbitmq", "postgresql"):
            print(f"    {infra + ' (server)':<36}"
                  + "".join(f"{ph.infra.get(infra, 0.0):>18.1f}" for ph in self.phases))
        print(f"    {'whole machine (PostgreSQL, RabbitMQ,':<36}"
              + "".join(f"{ph.machine:>18.1f}" for ph in self.phases))
        print(f"    {' other work included), of':<36}"
              + "".join(f"{ph.seconds * (os.cpu_count() or 1):>18.1f}" for ph in self.phases))
        for ph in self.phases:
            if ph.events:
                per = ", ".join(f"{name} {cpu * 1000 / ph.events:.1f}"
                                for name, cpu in [*ph.cpu.items(), *ph.infra.items()])
                print(f"    CPU ms per inbound event, {ph.name}: {per}; whole machine "
                      f"{ph.machine * 1000 / ph.events:.1f}")

    def replay(self, r: ReplayResult) -> None:
        self.replay_rate = r.rate
        year = (r.dossiers, r.events) == (YEAR_DOSSIERS, YEAR_DOSSIERS * YEAR_EVENTS_PER_DOSSIER)
        print(f"\n[5] parpulse replay{' of a province-year' if year else ''}: {r.events} dossier "
              f"events ({r.dossiers} dossiers) in "
              f"{r.seconds:.1f}s, peak RSS {r.peak_rss_mb:.0f} MB")
        print(f"    {r.rate:>8.0f} events/s ({r.net_rate:.0f}/s net of the {r.fixed_seconds:.1f}s"
              f" fixed cost, {r.fixed_rss_mb:.0f} MB fixed RSS)")
        if not year:
            secs, mb = r.year_estimate()
            print(f"    extrapolated linearly to a province-year ({YEAR_DOSSIERS:,} dossiers x "
                  f"{YEAR_EVENTS_PER_DOSSIER} events): ~{secs:.0f}s, ~{mb:.0f} MB (not measured)")

    def summary(self) -> None:
        rows: list[tuple[str, str, Any]] = []
        for label, r in self.maxes.items():
            rows.append((f"sustained end to end, {label}", f">= {RATE_TARGET}/s",
                         (f"{r.rate:.0f}/s", r.rate >= RATE_TARGET and r.drained)))
        for label, p99 in self.p99.items():
            rows.append((f"p99 publish->month on SSE at {self.args.rate:g}/s, {label}",
                         f"< {P99_TARGET:g} s", (f"{p99:.2f} s", p99 < P99_TARGET)))
        # A phase that was skipped has no figure: it is "not measured", never missed or met.
        rows.append(("replay", f">= {REPLAY_TARGET}/s",
                     (f"{self.replay_rate:.0f}/s", self.replay_rate >= REPLAY_TARGET)
                     if not math.isnan(self.replay_rate) else None))
        worst = max(self.rss.items(), key=lambda kv: kv[1], default=None)
        rows.append((f"peak RSS per service (worst: {worst[0] if worst else '-'})",
                     f"< {RSS_TARGET_MB} MB",
                     (f"{worst[1]:.0f} MB", worst[1] < RSS_TARGET_MB) if worst else None))
        print("\nTargets (measured in this run; a busy machine gives lower numbers)")
        for name, target, measured in rows:
            value, verdict = measured or ("-", None)
            word = "not measured" if verdict is None else "met" if verdict else "MISSED"
            print(f"    {name:<52} {target:>12} {value:>10}  {word}")
        for text in self.notes:
            print(f"    note: {text}")
