"""End to end: the four services as separate processes on RabbitMQ and PostgreSQL, measured
against the raw broker in the same run.

    python bench/bench_pipeline.py [--events 20000] [--rate 300] [--duration 60] ...

Phases, in this order: (1) raw pika baseline; (3) publish-to-SSE latency at a fixed rate with
the default RANKING_INTERVAL, then a short one (run first, on a fresh pipeline); (2) the
platform at maximum rate; (6) the same with two replicas of dossiers and scoring; (4) CPU and
peak RSS per process, queue and outbox backlogs every 2 s throughout; (5) `parpulse replay`
speed and memory over a generated province-year (1,000,000 dossiers of 10 events).
Everything runs in a vhost and databases of its own, dropped at the end; every process it
starts is stopped on exit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pipeline_baseline
import pipeline_metrics
import pipeline_replay
from pipeline_infra import Databases, QueueDepths, vhost
from pipeline_latency import ProbeTracker, SseReader, paced_load, probe_run
from pipeline_procs import SERVICES, Platform
from pipeline_report import Report
from pipeline_runs import QUEUES, Sampler, max_run, wait_idle
from pipeline_traffic import CLOCK_START, Catalogue, Probes, load_events

from services.integrator import native_message
from services.scoring.rankings import DEFAULT_RANKING_INTERVAL


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=20000, help="events per maximum-rate run")
    p.add_argument("--baseline-messages", type=int, default=None, help="default: --events")
    p.add_argument("--rate", type=float, default=300, help="events/s of the latency run")
    p.add_argument("--duration", type=float, default=60, help="seconds of each latency run")
    p.add_argument("--warmup", type=float, default=15,
                   help="seconds of the same background load before the first probe")
    p.add_argument("--fast-ranking-interval", type=float, default=0.25,
                   help="a second latency run with this RANKING_INTERVAL (0: skip)")
    p.add_argument("--replay-dossiers", type=int, default=pipeline_replay.YEAR_DOSSIERS,
                   help="dossiers in the replayed history (default: a province-year)")
    p.add_argument("--replay-events-per-dossier", type=int,
                   default=pipeline_replay.YEAR_EVENTS_PER_DOSSIER)
    p.add_argument("--max-workers", type=int, default=10)
    p.add_argument("--drain-timeout", type=float, default=90,
                   help="seconds a maximum-rate run may take before it is cut short")
    p.add_argument("--settle-timeout", type=float, default=45,
                   help="seconds to wait for an idle pipeline between phases (then purge)")
    p.add_argument("--skip-latency", action="store_true", help="no latency runs")
    p.add_argument("--skip-scale", action="store_true", help="no two-replica run")
    p.add_argument("--skip-replay", action="store_true", help="no replay run")
    p.add_argument("--keep-logs", action="store_true", help="keep the services' logs")
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args()


def _sigterm(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def settle(url: str, platform: Platform, report: Report, timeout: float) -> None:
    """Waits for the pipeline to go quiet; past the timeout, purges so the next phase starts
    clean (and says so)."""
    if wait_idle(url, platform, timeout):
        return
    report.note(f"pipeline not idle after {timeout:g}s: purged every queue to start clean")
    depths = QueueDepths(url)
    for q in QUEUES:
        depths.conn.channel().queue_purge(q)
    depths.close()


def latency_run(url: str, platform: Platform, args: argparse.Namespace, probes: Probes,
                serial: int, label: str, report: Report) -> None:
    tracker = ProbeTracker(probes.units, CLOCK_START.strftime("%Y-%m"))
    reader = SseReader(platform.addresses("gateway")[0], tracker.on_ranking)
    reader.start()
    reader.connected.wait(10)
    if reader.error:
        raise RuntimeError(f"SSE stream: {reader.error}")
    clock_origin = report.clock_origin
    events = load_events(int(args.rate * (args.duration + args.warmup + 10)), args.seed + serial,
                         serial)
    stop, sent = threading.Event(), [0]
    load = threading.Thread(target=paced_load, args=(url, events, args.rate, stop, sent),
                            daemon=True)
    load.start()
    # Probes start once the load has run a while: a fresh database has no statistics yet (the
    # planner's first plans are for empty tables) and the ranker's caches are empty.
    time.sleep(args.warmup)

    def now() -> datetime:
        # A minute behind the services' clocks, which started a little after clock_origin.
        return CLOCK_START + timedelta(seconds=time.monotonic() - clock_origin - 60)

    started = time.monotonic()
    before = pipeline_metrics.scrape(platform.addresses())
    latencies, misses = probe_run(url, tracker, probes, now, args.duration)
    during = pipeline_metrics.difference(pipeline_metrics.scrape(platform.addresses()), before)
    stop.set()
    load.join(10)
    achieved = sent[0] / (time.monotonic() - started + args.warmup)
    reader.stop()
    report.latency(label, latencies, misses, achieved, tracker.rankings, tracker.gaps)
    report.breakdown(pipeline_metrics.describe(during))


def latency_phases(url: str, platform: Platform, args: argparse.Namespace, report: Report,
                   sampler: Sampler) -> None:
    """At the default RANKING_INTERVAL, then (scoring restarted) at the short one."""
    probes = Probes(Catalogue())
    default = f"{DEFAULT_RANKING_INTERVAL:g}"
    phase = report.phase_start(platform, f"latency {default}s", sampler)
    latency_run(url, platform, args, probes, 2_000_000, f"RANKING_INTERVAL={default} (default)",
                report)
    report.phase_end(platform, phase)
    settle(url, platform, report, args.settle_timeout)
    if args.fast_ranking_interval <= 0:
        return
    fast = f"{args.fast_ranking_interval:g}"
    platform.stop(next(p for p in platform.of("scoring") if p.alive))
    platform.wait_ready([platform.start("scoring", f"(RANKING_INTERVAL={fast})",
                                        RANKING_INTERVAL=fast)])
    phase = report.phase_start(platform, f"latency {fast}s", sampler)
    latency_run(url, platform, args, probes, 3_000_000, f"RANKING_INTERVAL={fast}", report)
    report.phase_end(platform, phase)
    settle(url, platform, report, args.settle_timeout)
    platform.stop(next(p for p in platform.of("scoring") if p.alive))
    platform.wait_ready([platform.start("scoring", "(default)")])


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, _sigterm)  # also when started with SIGINT ignored (nohup, &)
    workdir = Path(tempfile.mkdtemp(prefix="parpulse-bench-"))
    report = Report(args)
    ok = False
    with vhost() as url:
        dbs = Databases()
        platform: Platform | None = None
        sampler: Sampler | None = None
        try:
            n_base = args.baseline_messages or args.events
            base_msgs = [native_message(e) for e in load_events(n_base, args.seed, 9_000_000)]
            report.baseline(pipeline_baseline.run(url, base_msgs, 200), n_base,
                            len(base_msgs[0].body))
            del base_msgs
            databases = {s: dbs.create(s) for s in SERVICES}
            env = {"PROVINCE": "demo", "CLOCK_START": CLOCK_START.isoformat(),
                   "CLOCK_SPEED": "1", "PUBLIC_RANKINGS": "true", "LOG_LEVEL": "WARNING",
                   "MAX_WORKERS": str(args.max_workers), "SMTP_HOST": "127.0.0.1"}
            platform = Platform(url, databases, workdir, env)
            platform.migrate()
            platform.base_env["SMTP_PORT"] = str(platform.start_smtp())
            report.clock_origin = time.monotonic()
            procs = [platform.start(s) for s in SERVICES]
            platform.wait_ready(procs)
            sampler = Sampler(url, platform)
            sampler.start()
            settle(url, platform, report, args.settle_timeout)

            if not args.skip_latency:
                latency_phases(url, platform, args, report, sampler)

            phase = report.phase_start(platform, "max x1", sampler)
            msgs = [native_message(e) for e in load_events(args.events, args.seed, 0)]
            result = max_run(url, platform, msgs, args.drain_timeout)
            report.max_result("1 replica", result)
            report.phase_end(platform, phase, result.inbound)
            settle(url, platform, report, args.settle_timeout)

            if not args.skip_scale:
                extra = [platform.start("dossiers"), platform.start("scoring")]
                platform.wait_ready(extra)
                settle(url, platform, report, args.settle_timeout)
                phase = report.phase_start(platform, "max x2", sampler)
                msgs = [native_message(e) for e in load_events(args.events, args.seed + 1,
                                                               4_000_000)]
                result = max_run(url, platform, msgs, args.drain_timeout)
                report.max_result("2 replicas", result)
                report.phase_end(platform, phase, result.inbound)
            sampler.stop()
            sampler = None
            report.processes(platform)
            platform.stop_all()

            if not args.skip_replay:
                report.replay(pipeline_replay.run(workdir, dbs.create("replay"),
                                                  args.replay_dossiers,
                                                  args.replay_events_per_dossier,
                                                  args.seed))
            report.summary()
            ok = True
        except KeyboardInterrupt:
            print("\ninterrupted: stopping every process", file=sys.stderr)
        finally:
            if sampler is not None:
                sampler.stop()
            if platform is not None:
                platform.stop_all()
            dbs.drop_all()
            if ok and not args.keep_logs:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                print(f"logs kept in {workdir}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
