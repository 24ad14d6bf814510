"""`parpulse replay` speed and memory over generated dossier-event history.

The replay runs as its own process (the real command line), timed from start to exit; its peak
RSS is the kernel's ru_maxrss for that child. A one-line file measures the fixed cost (start-up,
imports, writing an empty result), so the per-event rate can be given net of it too."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline_procs import BIN, ROOT
from pipeline_traffic import CLOCK_START, Catalogue, write_history

# A province-year per DOMAIN.md: 0.5-1.5 million dossiers with 5-15 status events each.
YEAR_DOSSIERS, YEAR_EVENTS_PER_DOSSIER = 1_000_000, 10


@dataclass
class ReplayResult:
    dossiers: int
    events: int
    seconds: float
    fixed_seconds: float
    peak_rss_mb: float
    fixed_rss_mb: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def net_rate(self) -> float:
        return self.events / max(1e-9, self.seconds - self.fixed_seconds)

    def year_estimate(self) -> tuple[float, float]:
        """Seconds and MB for a province-year, extrapolated linearly from this run."""
        events = YEAR_DOSSIERS * YEAR_EVENTS_PER_DOSSIER
        seconds = self.fixed_seconds + events / self.net_rate
        per_dossier = (self.peak_rss_mb - self.fixed_rss_mb) / max(1, self.dossiers)
        return seconds, self.fixed_rss_mb + per_dossier * YEAR_DOSSIERS


def _replay(path: Path, database_url: str, log: Path) -> tuple[float, float]:
    env = {**os.environ, "CLOCK_START": CLOCK_START.isoformat()}
    started = time.monotonic()
    with log.open("ab") as out:
        popen = subprocess.Popen([str(BIN / "parpulse"), "replay", str(path), "--database-url",
                                  database_url], cwd=ROOT, env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
    try:
        _, status, usage = os.wait4(popen.pid, 0)
    except BaseException:
        popen.kill()
        popen.wait()
        raise
    popen.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    if popen.returncode != 0:
        raise RuntimeError(f"parpulse replay failed ({popen.returncode}); see {log}")
    return elapsed, usage.ru_maxrss / 1024


def run(workdir: Path, database_url: str, dossiers: int, events_per_dossier: int,
        seed: int) -> ReplayResult:
    """Replays `dossiers` dossiers of `events_per_dossier` events each (a province-year by
    default: YEAR_DOSSIERS x YEAR_EVENTS_PER_DOSSIER), after a one-line file for the fixed
    cost."""
    cat = Catalogue()
    log = workdir / "replay.log"
    with log.open("ab") as out:
        subprocess.run([str(BIN / "parpulse"), "migrate", "scoring", "--database-url",
                        database_url], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=True)
    tiny, history = workdir / "history-1.jsonl", workdir / "history.jsonl"
    write_history(tiny, 1, seed, cat, events_per_dossier)
    fixed, fixed_rss = _replay(tiny, database_url, log)
    events = write_history(history, dossiers, seed, cat, events_per_dossier)
    seconds, rss = _replay(history, database_url, log)
    history.unlink()
    return ReplayResult(dossiers, events, seconds, fixed, rss, fixed_rss)
