"""Replay: rebuild the ledger and every counter from dossier snapshots.

The source of truth is the dossiers service's history, exported as JSON lines (one
`DossierSnapshot`, or one dossier event carrying it under "dossier", per line). Snapshots may
come in any order and repeat: folding them through the same ledger the live path uses gives
each dossier's highest version counted once, which is what the live counters hold.
Run it with the consumers stopped (or on a fresh database): it replaces the tables wholesale.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from services.common.db import make_engine, session_factory
from services.contracts.dossiers import DossierSnapshot

from .adapters.uow import ScoringUnitOfWork
from .domain.counters import ContributionLedger, CounterStore
from .handlers import to_facts


def fold(snapshots: Iterable[DossierSnapshot]) -> tuple[ContributionLedger, CounterStore]:
    ledger, store = ContributionLedger(), CounterStore()
    for snapshot in snapshots:
        store.add(ledger.apply(to_facts(snapshot)))
    return ledger, store


def replay(uow: ScoringUnitOfWork, snapshots: Iterable[DossierSnapshot]) -> int:
    """Replace the ledger and counters by those of `snapshots`; returns the dossier count.
    The caller marks rankings dirty (handlers.mark_all_live_dirty) if a service will rank."""
    ledger, store = fold(snapshots)
    with uow:
        uow.scores.replace_all(ledger, store.cells)
        uow.commit()
    return len(ledger)


def read_jsonl(path: str | Path) -> Iterator[DossierSnapshot]:
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                yield DossierSnapshot.model_validate(doc.get("dossier", doc))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not a dossier snapshot: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild scoring counters from a JSONL export "
                                                 "of dossier snapshots.")
    parser.add_argument("export", help="JSON lines: one DossierSnapshot or dossier event each")
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url, pool_size=1)
    count = replay(ScoringUnitOfWork(session_factory(engine)), read_jsonl(args.export))
    print(f"replayed {count} dossiers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
