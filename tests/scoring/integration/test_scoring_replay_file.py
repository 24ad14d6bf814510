"""`parpulse replay` of an export file (the two-pass, bulk-writing path) gives exactly the
ledger and counters of the in-memory fold, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2.extensions
import pytest
from sqlalchemy import select

from services import cli
from services.contracts.dossiers import Channel, DossierSnapshot
from services.scoring import replay as replay_module
from services.scoring.adapters.orm import LedgerRow
from services.scoring.replay import fold, read_jsonl, replay, replay_export
from services.scoring.replay_source import LatestSnapshots
from tests.scoring.scoring_support import event_for, random_history, scoring_db, snapshot

ROOT = Path(__file__).resolve().parents[3]


def write_export(path: Path, rng: random.Random, dossiers: int) -> list[DossierSnapshot]:
    """A shuffled export with stale versions, repeated lines, conflicting lines of one version
    (the first must win), bare snapshots and events mixed, blank lines, and values COPY must
    escape. Returns the snapshots in file order."""
    snapshots, _ = random_history(rng, dossiers)
    lines = snapshots + rng.sample(snapshots, len(snapshots) // 3)
    lines += [s.model_copy(update={"unit_code": "H99.03", "channel": Channel.ONLINE})
              for s in rng.sample(snapshots, 5)]
    lines.append(snapshot("we\\ird\tcode\n", 1, "H99.01", 4, fee_bearing=True, paid_online=True,
                          procedure_code="1.00\\37\t53 é\r\n\\N"))
    rng.shuffle(lines)
    with path.open("w", encoding="utf-8") as out:
        for n, snap in enumerate(lines):
            out.write((snap if n % 2 else event_for(snap)).model_dump_json() + "\n")
            if n % 17 == 0:
                out.write("  \n")
    return lines


def stored(new_uow: Any) -> tuple[dict[str, tuple[Any, ...]], dict[Any, Any]]:
    with new_uow() as uow:
        rows = uow.session.scalars(select(LedgerRow)).all()
        ledger = {r.dossier_code: (r.version, r.unit_code, r.anchor_day, tuple(r.buckets),
                                   dict(r.contribution)) for r in rows}
        return ledger, uow.scores.all_cells()


def expected(snapshots: list[DossierSnapshot]) -> tuple[dict[str, tuple[Any, ...]], dict[Any, Any]]:
    ledger, store = fold(snapshots)
    rows = {e.dossier_code: (e.version, e.unit_code, e.buckets[0] if e.buckets else None,
                             e.buckets, dict(e.contribution)) for e in ledger}
    return rows, store.cells


@pytest.mark.parametrize("seed", [4, 5])
def test_replaying_an_export_equals_the_fold(database_url: str, tmp_path: Path, seed: int,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    export = tmp_path / "export.jsonl"
    snapshots = write_export(export, random.Random(seed), 60)
    want = expected(snapshots)
    assert len(want[0]) == 61 and any(len(c) > 10 for c in want[1].values())
    indexed: list[str | Path] = []

    class Spy(LatestSnapshots):
        def __init__(self, path: str | Path) -> None:
            indexed.append(path)
            super().__init__(path)

    monkeypatch.setattr(replay_module, "LatestSnapshots", Spy)
    with scoring_db(database_url) as new_uow:
        replay(new_uow(), snapshots[:7])  # something to replace
        assert replay_export(new_uow(), export) == 61
        assert stored(new_uow) == want
        # The whole history folded line by line gives the same.
        replay(new_uow(), snapshots[:7])
        assert replay(new_uow(), read_jsonl(export)) == 61
        assert stored(new_uow) == want
    assert indexed == [export]


def test_the_command_line_equals_the_fold(database_url: str, tmp_path: Path) -> None:
    # A process of its own is not eventlet-patched, so on PostgreSQL this runs COPY (the test
    # process, patched, takes the INSERT path above).
    export = tmp_path / "export.jsonl"
    snapshots = write_export(export, random.Random(6), 80)
    with scoring_db(database_url) as new_uow:
        replay(new_uow(), snapshots[:7])
        done = subprocess.run([sys.executable, "-m", "services.cli", "replay", str(export),
                               "--database-url", database_url], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "replayed 81 dossiers" in done.stdout
        assert stored(new_uow) == expected(snapshots)


def test_a_malformed_line_fails_with_its_place_and_changes_nothing(database_url: str,
                                                                  tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    snapshots = write_export(export, random.Random(7), 10)
    good = export.read_text().splitlines()
    with scoring_db(database_url) as new_uow:
        replay(new_uow(), snapshots)
        before = stored(new_uow)
        # Broken JSON, and valid JSON that is no snapshot in a version a later line supersedes.
        stale = snapshot("D-9", 1, "H99.01", 2).model_dump_json().replace('"status":2',
                                                                          '"status":42')
        for bad, number in (('{"dossier": {"dossier_code": "D-1",', 3), (stale, 2)):
            lines = [*good[:number - 1], bad, *good[number - 1:],
                     snapshot("D-9", 2, "H99.01", 2).model_dump_json()]
            export.write_text("\n".join(lines) + "\n")
            where = f"^{re.escape(str(export))}:{number}: not a dossier snapshot"
            with pytest.raises(ValueError, match=where):
                replay_export(new_uow(), export)
            with pytest.raises(ValueError, match=where):
                list(read_jsonl(export))
            assert stored(new_uow) == before


def test_the_command_line_reports_a_malformed_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text(snapshot("D-1", 1, "H99.01", 2).model_dump_json() + "\n{not json\n")
    url = f"sqlite:///{tmp_path}/scoring.db"
    with scoring_db(url):
        assert cli.main(["replay", str(export), "--database-url", url]) == 2
    assert f"parpulse: {export}:2: not a dossier snapshot" in capsys.readouterr().err


@contextmanager
def not_green() -> Iterator[None]:
    """The test process is eventlet-patched, where psycopg2 refuses COPY; nothing else runs
    meanwhile, so blocking I/O for a moment is safe and lets this process use COPY."""
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        yield
    finally:
        psycopg2.extensions.set_wait_callback(callback)


def test_a_failure_midway_rolls_back_and_keeps_its_cause(database_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    export = tmp_path / "export.jsonl"
    snapshots = write_export(export, random.Random(10), 20)

    class AppendedToMeanwhile(LatestSnapshots):
        def __init__(self, path: str | Path) -> None:
            super().__init__(path)
            with Path(path).open("a") as out:
                out.write(snapshot("D-late", 1, "H99.01", 2).model_dump_json() + "\n")

    with scoring_db(database_url) as new_uow, not_green():
        replay(new_uow(), snapshots[:7])
        before = stored(new_uow)
        monkeypatch.setattr(replay_module, "LatestSnapshots", AppendedToMeanwhile)
        with pytest.raises(ValueError, match="changed while it was being replayed"):
            replay_export(new_uow(), export)
        assert stored(new_uow) == before


def test_read_jsonl_still_yields_every_line_in_order(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    snapshots = write_export(export, random.Random(8), 5)
    assert list(read_jsonl(export)) == snapshots


def test_an_export_changed_between_the_passes_is_refused(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    write_export(export, random.Random(9), 5)
    latest = LatestSnapshots(export)
    with export.open("a") as out:
        out.write(snapshot("D-late", 1, "H99.01", 2).model_dump_json() + "\n")
    with pytest.raises(ValueError, match="changed while it was being replayed"):
        list(latest)
