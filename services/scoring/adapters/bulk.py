"""Bulk writes for replay: the ledger and counter tables replaced inside the caller's
transaction, with rows streamed from iterators so a province-year never sits in memory.

PostgreSQL takes the rows by COPY, fed to the server as they are produced, so its inserting
overlaps our folding. psycopg2 refuses COPY in green mode (a wait callback is set: in
eventlet-patched processes such as the services and the test suite), and SQLite has none: there
the same rows go through one cached INSERT run as executemany in chunks, which SQLAlchemy sends
as multi-row batches (insertmanyvalues) or through the driver's executemany.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from ..domain.counters import Counters, LedgerEntry
from .orm import CounterCell, LedgerRow

Cells = dict[tuple[str, str], Counters]
_CHUNK = 5000  # rows per executemany: bounds memory, big enough to amortise each round trip
_READ = 1 << 16  # characters handed to COPY per read
_LEDGER: Table = LedgerRow.__table__  # type: ignore[assignment]
_COUNTERS: Table = CounterCell.__table__  # type: ignore[assignment]
_LEDGER_COLUMNS = "dossier_code, version, unit_code, anchor_day, buckets, contribution"
_COUNTER_COLUMNS = "unit_code, bucket, name, value"  # the id comes from its sequence


def ledger_row(entry: LedgerEntry) -> dict[str, Any]:
    """The row `SqlScoringRepository.put_entry` writes for an entry."""
    return {**entry.to_row(), "anchor_day": entry.buckets[0] if entry.buckets else None}


def counter_rows(cells: Cells) -> Iterator[tuple[str, str, str, int]]:
    for (unit, bucket), counters in sorted(cells.items()):
        for name, value in sorted(counters.items()):
            if value:
                yield unit, bucket, name, value


class BulkWriter:
    """Use inside a unit of work: clear(), ledger(...), counters(...), then commit."""

    def __init__(self, session: Session) -> None:
        self.session = session
        connection = session.connection()
        self._raw: Any = connection.connection.driver_connection
        self._copy = connection.dialect.name == "postgresql" and not _green()

    def clear(self) -> None:
        self.session.execute(delete(CounterCell))
        self.session.execute(delete(LedgerRow))

    def ledger(self, entries: Iterable[LedgerEntry]) -> None:
        if self._copy:
            self._copy_in(_LEDGER, _LEDGER_COLUMNS, _LedgerText().lines(entries))
        else:
            self._insert(_LEDGER, (ledger_row(e) for e in entries))

    def counters(self, cells: Cells) -> None:
        if self._copy:
            self._copy_in(_COUNTERS, _COUNTER_COLUMNS, _counter_lines(cells))
        else:
            self._insert(_COUNTERS, (
                {"unit_code": unit, "bucket": bucket, "name": name, "value": value}
                for unit, bucket, name, value in counter_rows(cells)))

    def _insert(self, table: Table, rows: Iterator[dict[str, Any]]) -> None:
        statement = insert(table)
        while chunk := list(itertools.islice(rows, _CHUNK)):
            self.session.execute(statement, chunk)

    def _copy_in(self, table: Table, columns: str, lines: Iterator[str]) -> None:
        reader = _Reader(lines)
        with self._raw.cursor() as cursor:
            try:
                cursor.copy_expert(f"COPY {table.name} ({columns}) FROM STDIN", reader,
                                   size=_READ)
            except Exception:
                # psycopg2 reports a failing read() as QueryCanceled; the caller wants the
                # real cause (a bad line is a ValueError with its file:line).
                if reader.failure is not None:
                    raise reader.failure from None
                raise


class _LedgerText:
    """COPY lines of ledger rows. The JSON of buckets and contributions is cached: a year has
    a few hundred distinct bucket tuples and a few thousand distinct contributions."""

    def __init__(self) -> None:
        self._json: dict[Any, str] = {}

    def lines(self, entries: Iterable[LedgerEntry]) -> Iterator[str]:
        known = self._json
        for entry in entries:
            buckets, items = entry.buckets, tuple(entry.contribution.items())
            yield _line((entry.dossier_code, str(entry.version), entry.unit_code,
                         buckets[0] if buckets else None,
                         known.get(buckets) or self._dumps(buckets, list(buckets)),
                         known.get(items) or self._dumps(items, dict(items))))

    def _dumps(self, key: Any, value: Any) -> str:
        if len(self._json) > 100_000:  # an unusual export: stay bounded, stay correct
            self._json.clear()
        text = self._json[key] = json.dumps(value)
        return text


def _counter_lines(cells: Cells) -> Iterator[str]:
    """COPY lines of counter cells: a million rows a year of a few dozen distinct names, so
    the (unit, bucket) part is escaped once per cell and each name once."""
    names: dict[str, str] = {}
    for (unit, bucket), counters in sorted(cells.items()):
        cell = _line((unit, bucket))[:-1]
        for name, value in sorted(counters.items()):
            if value:
                escaped = names.get(name)
                if escaped is None:
                    escaped = names[name] = _line((name,))[:-1]
                yield f"{cell}\t{escaped}\t{value}\n"


def _line(fields: tuple[str | None, ...]) -> str:
    """One row in COPY's text format."""
    line = "\t".join(["\\N" if f is None else f for f in fields])
    # Almost no value needs escaping; checking the joined line finds the few that do.
    if (line.count("\\") != fields.count(None) or "\n" in line or "\r" in line
            or line.count("\t") != len(fields) - 1):
        line = "\t".join(["\\N" if f is None else _escape(f) for f in fields])
    return line + "\n"


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


class _Reader:
    """A read()-able file over COPY lines, drawn as psycopg2 asks for more."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.failure: Exception | None = None

    def read(self, size: int = _READ) -> str:
        parts, have = [], 0
        try:
            for line in self._lines:
                parts.append(line)
                have += len(line)
                if have >= size:
                    break
        except Exception as exc:
            self.failure = exc
            raise
        return "".join(parts)


def _green() -> bool:
    import psycopg2.extensions

    return psycopg2.extensions.get_wait_callback() is not None
