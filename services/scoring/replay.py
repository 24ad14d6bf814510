"""Replay: rebuild the ledger and every counter from dossier snapshots.

The source of truth is the dossiers service's history, exported as JSON lines (one
`DossierSnapshot`, or one dossier event carrying it under "dossier", per line). Snapshots may
come in any order and repeat: the result is each dossier's highest version counted once, which
is what the live counters hold. Both ways below fold through the live path's own code
(`to_facts`, `entry_for`, `Counters`), so the numbers agree by construction.
Run it with the consumers stopped (or on a fresh database): it replaces the tables wholesale.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from services.common.db import make_engine, session_factory
from services.contracts.dossiers import DossierSnapshot

from .adapters.bulk import BulkWriter, Cells
from .adapters.uow import ScoringUnitOfWork
from .domain.counters import (
    BucketDelta,
    ContributionLedger,
    Counters,
    CounterStore,
    LedgerEntry,
    entry_for,
)
from .handlers import to_facts
from .replay_source import LatestSnapshots, each_line, parse_line


def fold(snapshots: Iterable[DossierSnapshot]) -> tuple[ContributionLedger, CounterStore]:
    ledger, store = ContributionLedger(), CounterStore()
    for snapshot in snapshots:
        store.add(ledger.apply(to_facts(snapshot)))
    return ledger, store


def read_jsonl(path: str | Path) -> Iterator[DossierSnapshot]:
    """Every line's snapshot, in file order (the whole history; `replay_export` reads only
    each dossier's latest line)."""
    return (parse_line(path, n, line) for n, line in each_line(path))


def replay(uow: ScoringUnitOfWork, snapshots: Iterable[DossierSnapshot]) -> int:
    """Replace the ledger and counters by those of `snapshots`; returns the dossier count.
    The caller marks rankings dirty (handlers.mark_all_live_dirty) if a service will rank."""
    ledger, store = fold(snapshots)
    _write(uow, ledger, store.cells)
    return len(ledger)


def replay_export(uow: ScoringUnitOfWork, path: str | Path) -> int:
    """`replay` of an export file, streamed: the ledger rows go to the database as they are
    made. Held in memory: pass 1's index (an entry per dossier, dropped before pass 2) and the
    counters, which grow with units and days, not with dossiers."""
    latest = LatestSnapshots(path)  # a malformed line fails here, before any table is touched
    tally = _Tally()
    _write(uow, tally.entries(latest), tally.cells)
    return len(latest)


def replay_file(path: str | Path, database_url: str) -> int:
    """`replay_export` into the database at `database_url`; returns the dossier count."""
    engine = make_engine(database_url, pool_size=1)
    try:
        return replay_export(ScoringUnitOfWork(session_factory(engine)), path)
    finally:
        engine.dispose()


def _write(uow: ScoringUnitOfWork, entries: Iterable[LedgerEntry],
           cells: Cells | Callable[[], Cells]) -> None:
    """`cells` may be a function: called once `entries` are consumed, when they are known."""
    with uow:
        writer = BulkWriter(uow.session)
        writer.clear()
        writer.ledger(entries)
        writer.counters(cells() if callable(cells) else cells)
        # Every period changed: a running ranker must not serve cached ranks of any of them.
        uow.scores.touch_all()
        uow.commit()


class _Tally:
    """The counters of ledger entries as they stream past. A dossier's four buckets all follow
    from its anchor day, so contributions are summed per (unit, buckets) first: one
    `Counters.add` per dossier instead of four, the same totals."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, tuple[str, ...]], Counters] = {}

    def entries(self, snapshots: Iterable[DossierSnapshot]) -> Iterator[LedgerEntry]:
        sums = self._sums
        for snapshot in snapshots:
            entry = entry_for(to_facts(snapshot))
            key = (entry.unit_code, entry.buckets)
            if key not in sums:
                sums[key] = Counters()
            sums[key].add(entry.contribution)
            yield entry

    def cells(self) -> Cells:
        store = CounterStore()
        store.add(BucketDelta(unit, bucket, counters)
                  for (unit, buckets), counters in self._sums.items() for bucket in buckets)
        return store.cells


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild scoring counters from a JSONL export "
                                                 "of dossier snapshots.")
    parser.add_argument("export", help="JSON lines: one DossierSnapshot or dossier event each")
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    count = replay_file(args.export, args.database_url)
    print(f"replayed {count} dossiers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
