"""The SLA clock's cost per call: `assess` and `working_time_between` on the demo province's
calendar, the table-driven calendar against the day-by-day reference, measured in one run.

    python bench/bench_calendar.py [--cases 2000] [--rounds 5] [--seed 766]

The reference is the original calendar and assessment kept in the tests
(tests/common/unit/workcalendar_reference.py, tests/dossiers/unit/sla_reference.py).
Cases are dossiers as the dossiers service sees them: accepted in working hours of 2025-2026 with
a demo procedure's statutory time, mostly open, some with a supplement pause, some paused or
closed, assessed at some point up to a third past their statutory time. Each implementation runs
over all cases `--rounds` times, alternating, and the best round counts (the least disturbed
by other work on the machine); the load average is printed so a busy machine shows.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.common.dependencies import load_province_context
from services.common.workcalendar import WorkingCalendar
from services.dossiers.domain.sla import Pause, SlaInput, StatutoryTime, TimeUnit, assess
from tests.common.unit.workcalendar_reference import ReferenceCalendar
from tests.dossiers.unit.sla_reference import reference_assess

Case = tuple[SlaInput, datetime]


def cases(calendar: WorkingCalendar, statutory: Sequence[StatutoryTime], n: int,
          rng: random.Random) -> list[Case]:
    tz = calendar.hours.tz
    start = datetime(2025, 1, 1, tzinfo=tz)
    out: list[Case] = []
    while len(out) < n:
        moment = start + timedelta(seconds=rng.randrange(640 * 86400))
        accepted = calendar.next_working_instant(moment.replace(microsecond=0))
        st = rng.choice(statutory)
        days = st.amount if st.unit is not TimeUnit.WORKING_HOURS else st.amount / 8
        span = timedelta(days=days * 7 / 5 * 1.3 + 1)  # a bit past due, weekends included
        now = accepted + span * rng.random()
        kind = rng.random()
        pauses: tuple[Pause, ...] = ()
        completed = None
        if kind < 0.15:  # a supplement request answered a few days later
            p = accepted + (now - accepted) * rng.random() / 2
            pauses = (Pause(p, p + timedelta(days=rng.uniform(0.5, 5))),)
        elif kind < 0.20:  # waiting for the applicant now
            pauses = (Pause(accepted + (now - accepted) * rng.random()),)
        elif kind < 0.30:
            completed = now
        sla = SlaInput(accepted, st, pauses, supplement_count=len(pauses), completed_at=completed)
        out.append((sla, max(now, completed or now)))
    return out


def best_rate(runs: dict[str, Callable[[], object]], calls: int, rounds: int) -> dict[str, float]:
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: calls / seconds for name, seconds in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=766)
    args = parser.parse_args(argv)

    context = load_province_context("demo")
    fast = context.calendar
    ref = ReferenceCalendar.like(fast)
    statutory = [StatutoryTime(p.statutory_amount, TimeUnit(p.statutory_unit))
                 for p in context.province.procedures]
    work = cases(fast, statutory, args.cases, random.Random(args.seed))
    spans = [(sla.accepted_at, now) for sla, now in work if sla.accepted_at is not None]

    # Not a test (those are in tests/), but a benchmark of different answers would mean nothing.
    for sla, now in work:
        assert assess(fast, sla, now) == reference_assess(ref, sla, now), (sla, now)
    for a, b in spans:
        assert fast.working_time_between(a, b) == ref.working_time_between(a, b), (a, b)

    def assess_with(cal: WorkingCalendar, fn: Callable[..., Any]) -> Callable[[], object]:
        return lambda: [fn(cal, sla, now) for sla, now in work]

    def between_with(cal: WorkingCalendar) -> Callable[[], object]:
        return lambda: [cal.working_time_between(a, b) for a, b in spans]

    print(f"{len(work)} cases on the demo calendar ({fast.first_year}-{fast.last_year}), "
          f"best of {args.rounds} rounds; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs")
    for label, runs, calls in (
        ("assess", {"new": assess_with(fast, assess),
                    "reference": assess_with(ref, reference_assess)}, len(work)),
        ("working_time_between", {"new": between_with(fast), "reference": between_with(ref)},
         len(spans)),
    ):
        rate = best_rate(runs, calls, args.rounds)
        print(f"{label:22} new {rate['new']:>10,.0f} calls/s ({1e6 / rate['new']:7.1f} us)   "
              f"reference {rate['reference']:>8,.0f} calls/s ({1e6 / rate['reference']:7.1f} us)"
              f"   x{rate['new'] / rate['reference']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
