"""Counters and the contribution ledger: the heart of idempotent, order-proof counting.

The ledger remembers, per dossier, the version, unit, buckets and contribution it last applied.
A newer snapshot is applied as the difference against that record; an equal or older one is
ignored. So duplicates and reordering leave the counters equal to "each dossier's highest
version counted once", and the service persists exactly one `LedgerEntry` row per dossier.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .contribution import DISTINCT_PREFIX, DossierFacts, anchor_date, contribution
from .periods import (  # re-exported: period keys belong with the buckets they name
    bucket_keys,
    day_key,
    month_key,
    quarter_key,
    rolling_window_days,
    year_key,
)

__all__ = [
    "BucketDelta", "ContributionLedger", "CounterStore", "Counters", "LedgerEntry", "advance",
    "bucket_keys", "counter_value", "counter_values", "day_key", "delta", "diff", "entry_for",
    "month_key", "quarter_key", "rolling_window_days", "year_key",
]


def delta(old: Mapping[str, int] | None, new: Mapping[str, int] | None) -> dict[str, int]:
    """Non-zero `new - old`, counter by counter."""
    old, new = old or {}, new or {}
    changes = {name: new.get(name, 0) - old.get(name, 0) for name in {*old, *new}}
    return {name: n for name, n in changes.items() if n}


def counter_value(counters: Mapping[str, int], ref: str) -> int:
    """A counter, or for `distinct:<name>` the number of procedures whose `<name>:...` is > 0."""
    if ref.startswith(DISTINCT_PREFIX):
        prefix = ref[len(DISTINCT_PREFIX):] + ":"
        return sum(1 for name, n in counters.items() if name.startswith(prefix) and n > 0)
    return counters.get(ref, 0)


def counter_values(counters: Mapping[str, int], refs: Iterable[str]) -> dict[str, int]:
    """`counter_value` of every ref, the `distinct:` ones counted in one pass over the names."""
    out: dict[str, int] = {}
    distinct: dict[str, str] = {}  # counter name prefix -> ref
    for ref in refs:
        if ref.startswith(DISTINCT_PREFIX):
            distinct[ref[len(DISTINCT_PREFIX):]] = ref
            out[ref] = 0
        else:
            out[ref] = counters.get(ref, 0)
    if distinct:
        for name, n in counters.items():
            head, colon, _ = name.partition(":")
            if colon and n > 0 and head in distinct:
                out[distinct[head]] += 1
    return out


class Counters(dict[str, int]):
    """Counter name -> count. Missing names read as 0 and zeros are dropped, so equal tallies
    compare equal whatever their history."""

    def __missing__(self, key: str) -> int:
        return 0

    def add(self, changes: Mapping[str, int]) -> None:
        for name, n in changes.items():
            total = self.get(name, 0) + n
            if total:
                self[name] = total
            else:
                self.pop(name, None)

    def apply_delta(self, old: Mapping[str, int] | None, new: Mapping[str, int] | None) -> None:
        self.add(delta(old, new))

    def value(self, ref: str) -> int:
        return counter_value(self, ref)

    @classmethod
    def summed(cls, parts: Iterable[Mapping[str, int]]) -> Counters:
        out = cls()
        for part in parts:
            out.add(part)
        return out


@dataclass(frozen=True)
class LedgerEntry:
    """What one dossier last contributed; one persisted row per dossier."""

    dossier_code: str
    version: int
    unit_code: str
    buckets: tuple[str, ...]
    contribution: Mapping[str, int]

    def to_row(self) -> dict[str, Any]:
        return {"dossier_code": self.dossier_code, "version": self.version,
                "unit_code": self.unit_code, "buckets": list(self.buckets),
                "contribution": dict(self.contribution)}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LedgerEntry:
        return cls(row["dossier_code"], int(row["version"]), row["unit_code"],
                   tuple(row["buckets"]), dict(row["contribution"]))


@dataclass(frozen=True)
class BucketDelta:
    """Changes to add to one unit's counters in one bucket."""

    unit_code: str
    bucket: str
    changes: Mapping[str, int]


def entry_for(facts: DossierFacts) -> LedgerEntry:
    """The ledger row for a snapshot. No acceptance or submission date: counted nowhere."""
    anchor = anchor_date(facts)
    buckets = bucket_keys(anchor) if anchor is not None else ()
    return LedgerEntry(facts.dossier_code, facts.version, facts.unit_code, buckets,
                       contribution(facts))


def diff(old: LedgerEntry | None, new: LedgerEntry | None) -> list[BucketDelta]:
    """Per (unit, bucket) changes turning `old`'s contribution into `new`'s, sorted."""
    acc: dict[tuple[str, str], Counters] = {}
    for entry, sign in ((old, -1), (new, 1)):
        if entry is None:
            continue
        for bucket in entry.buckets:
            slot = acc.setdefault((entry.unit_code, bucket), Counters())
            slot.add({name: sign * n for name, n in entry.contribution.items()})
    return [BucketDelta(unit, bucket, dict(changes))
            for (unit, bucket), changes in sorted(acc.items()) if changes]


def advance(old: LedgerEntry | None, facts: DossierFacts,
            ) -> tuple[LedgerEntry, list[BucketDelta]] | None:
    """The new row and the deltas to add, or None when `facts` is a duplicate or stale."""
    if old is not None and facts.version <= old.version:
        return None
    new = entry_for(facts)
    return new, diff(old, new)


class ContributionLedger:
    """In-memory ledger (tests, replay); the service keeps the same rows in a table."""

    def __init__(self) -> None:
        self._entries: dict[str, LedgerEntry] = {}

    def apply(self, facts: DossierFacts) -> list[BucketDelta]:
        step = advance(self._entries.get(facts.dossier_code), facts)
        if step is None:
            return []
        entry, deltas = step
        self._entries[facts.dossier_code] = entry
        return deltas

    def get(self, dossier_code: str) -> LedgerEntry | None:
        return self._entries.get(dossier_code)

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class CounterStore:
    """In-memory per (unit, bucket) counters; the service keeps the same in a table."""

    cells: dict[tuple[str, str], Counters] = field(default_factory=dict)

    def add(self, deltas: Iterable[BucketDelta]) -> None:
        for d in deltas:
            cell = self.cells.setdefault((d.unit_code, d.bucket), Counters())
            cell.add(d.changes)
            if not cell:
                del self.cells[(d.unit_code, d.bucket)]

    def get(self, unit_code: str, bucket: str) -> Counters:
        return Counters(self.cells.get((unit_code, bucket), {}))

    def window(self, unit_code: str, buckets: Iterable[str]) -> Counters:
        """Sum over buckets, e.g. `rolling_window_days(end, 30)` for a rolling window."""
        return Counters.summed(self.cells.get((unit_code, b), {}) for b in buckets)

    def units(self) -> set[str]:
        return {unit for unit, _ in self.cells}
