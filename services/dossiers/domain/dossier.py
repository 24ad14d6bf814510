"""The dossier aggregate: its status history and the facts the SLA clock and scores need.

`apply(report)` folds one report into the dossier and returns what changed; everything derived
(current status, pauses, due dates, outcome) is recomputed from the sorted history, so the order
in which reports arrive does not change the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .sla import Pause
from .status import ORDER, PAUSING, SUPPLEMENT, describe, is_known, reachable


class Rejected(Exception):
    """A report that cannot be applied; `code` is a short bounded category for metrics."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


FLAG_FIELDS = (
    "synced_national", "paid_online", "digitised", "data_reused", "from_national_store",
    "vneid_verified", "e_result",
)
FACT_FIELDS = (
    "channel", "applicant_type", "submitted_at", "accepted_at", "source_due_at",
    "completed_at", "returned_at", "apology_new_due_at", *FLAG_FIELDS,
)
PERSONAL_FIELDS = ("holder_name", "holder_id_number", "email", "phone")


@dataclass(frozen=True)
class Report:
    """One statement from a source system about one dossier at one instant."""

    dossier_code: str
    status: int
    status_at: datetime
    unit_code: str | None = None
    procedure_code: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    # Supplement requests as DVCQG lists them (request, resumption); None when not sent.
    supplements: tuple[Pause, ...] | None = None
    personal: dict[str, str] = field(default_factory=dict)
    apology_issued: bool = False


@dataclass(frozen=True)
class Entry:
    status: int
    at: datetime


@dataclass
class Dossier:
    code: str
    unit_code: str
    procedure_code: str
    version: int = 0
    history: list[Entry] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    supplements: tuple[Pause, ...] = ()
    personal: dict[str, str] = field(default_factory=dict)
    # When each fact, personal field, the supplement list, the unit and the procedure were last
    # stated: a report older than that statement arrives late and must not undo it.
    stated_at: dict[str, datetime] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.history[-1].status

    def copy(self) -> Dossier:
        """An independent copy (entries and pauses are immutable; the containers are not)."""
        return replace(self, history=list(self.history), facts=dict(self.facts),
                       personal=dict(self.personal), stated_at=dict(self.stated_at))

    def apply(self, report: Report) -> bool:
        """Fold `report` in; True if anything changed (the version then grows by one)."""
        if not is_known(report.status):
            raise Rejected("unknown_status", f"unknown status code {report.status}")
        before = (list(self.history), dict(self.facts), self.supplements, dict(self.personal),
                  self.unit_code, self.procedure_code)
        self._insert(Entry(report.status, report.status_at))
        at = report.status_at
        for key, value in report.facts.items():
            if value is not None and self._newest(key, at):
                self.facts[key] = value
        first_apology = self.facts.get("apology_issued_at")
        if report.apology_issued and (first_apology is None or at < first_apology):
            self.facts["apology_issued_at"] = at
        if report.supplements is not None and self._newest("supplements", at):
            self.supplements = report.supplements
        for key, value in report.personal.items():
            if value and self._newest(f"personal.{key}", at):
                self.personal[key] = value
        # A dossier keeps the unit it was filed under; a report may move it (status 4 moves
        # between units), and the newest report naming a unit wins.
        if report.unit_code and self._newest("unit_code", at):
            self.unit_code = report.unit_code
        if report.procedure_code and self._newest("procedure_code", at):
            self.procedure_code = report.procedure_code
        after = (self.history, self.facts, self.supplements, self.personal,
                 self.unit_code, self.procedure_code)
        changed = before != after
        if changed:
            self.version += 1
        return changed

    def _newest(self, key: str, at: datetime) -> bool:
        """Records that `key` is stated at `at`; False if a newer statement of it stands."""
        kept = self.stated_at.get(key)
        if kept is not None and at < kept:
            return False
        self.stated_at[key] = at
        return True

    def _insert(self, entry: Entry) -> None:
        if entry in self.history:
            return
        history = sorted([*self.history, entry], key=lambda e: (e.at, ORDER[e.status], e.status))
        i = history.index(entry)
        prev = history[i - 1] if i > 0 else None
        nxt = history[i + 1] if i + 1 < len(history) else None
        if prev is not None and not reachable(prev.status, entry.status):
            raise Rejected(
                "impossible_transition",
                f"status {describe(entry.status)} at {entry.at.isoformat()} cannot follow "
                f"{describe(prev.status)} at {prev.at.isoformat()}",
            )
        if nxt is not None and not reachable(entry.status, nxt.status):
            raise Rejected(
                "impossible_transition",
                f"status {describe(entry.status)} at {entry.at.isoformat()} cannot precede "
                f"{describe(nxt.status)} at {nxt.at.isoformat()}",
            )
        self.history = history

    # -- facts derived from the history -------------------------------------------------

    def accepted_at(self) -> datetime | None:
        explicit = self.facts.get("accepted_at")
        if explicit is not None:
            return explicit
        return next((e.at for e in self.history if e.status == 2), None)

    def completed_at(self) -> datetime | None:
        explicit = self.facts.get("completed_at")
        if explicit is not None and self.status in (9, 10):
            return explicit
        for status in (9, 10, 7, 3):
            at = next((e.at for e in self.history if e.status == status), None)
            if at is not None:
                return at
        return None

    def pauses(self) -> tuple[Pause, ...]:
        """Pauses seen in the history, merged with the supplement list a source sent."""
        found: list[Pause] = []
        start: datetime | None = None
        for e in self.history:
            if e.status in PAUSING and start is None:
                start = e.at
            elif e.status not in PAUSING and start is not None:
                found.append(Pause(start, e.at))
                start = None
        if start is not None:
            found.append(Pause(start, None))
        return merge_pauses([*found, *self.supplements])

    def supplement_count(self) -> int:
        in_history, prev = 0, None
        for e in self.history:
            if e.status == SUPPLEMENT and prev != SUPPLEMENT:
                in_history += 1
            prev = e.status
        return max(in_history, len(self.supplements))


def merge_pauses(pauses: list[Pause]) -> tuple[Pause, ...]:
    """Union of possibly overlapping intervals; an open pause swallows everything after it."""
    merged: list[Pause] = []
    for p in sorted(pauses, key=lambda p: p.start):
        if merged:
            last = merged[-1]
            if last.end is None or p.start <= last.end:
                end = None if last.end is None or p.end is None else max(last.end, p.end)
                merged[-1] = replace(last, end=end)
                continue
        merged.append(p)
    return tuple(merged)
