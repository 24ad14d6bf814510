"""Realistic dossier traffic for the pipeline benchmark: native inbound events, probe events,
and a year of dossier-event history for `parpulse replay`.

Units and procedures come from the demo province's reference data, so nothing is quarantined
for an unknown unit or procedure. A few communes are reserved for the latency probes: the load
never touches them, so their ranking entries move only when a probe lands.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from services.common.reference import Procedure, Province, Unit, UnitLevel, load_province

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# The services' clock starts here: a Tuesday in October 2026, so the load's dossiers (accepted
# earlier that month) and the probes (accepted "today") count in every live ranking period.
CLOCK_START = datetime(2026, 10, 20, 9, 0, tzinfo=VN)
PROBE_UNITS = 6
# Lifecycles (statuses in order) and their weights: open, processing, supplement, completed.
LIFECYCLES: tuple[tuple[tuple[int, ...], float], ...] = (
    ((2,), 15), ((2, 4), 25), ((2, 4, 5, 4), 10), ((2, 4, 9), 40), ((2, 4, 9, 10), 10))


class Catalogue:
    """Units (valid today, by level) and the procedures each level handles."""

    def __init__(self, province: Province | None = None) -> None:
        self.province = province or load_province("demo")
        today = CLOCK_START.date()
        levels = (UnitLevel.DEPARTMENT, UnitLevel.BRANCH, UnitLevel.COMMUNE)
        units = [u for lv in levels for u in self.province.units_at(lv, today)]
        communes = [u for u in units if u.level is UnitLevel.COMMUNE]
        self.probe_units = [u.code for u in communes[-PROBE_UNITS:]]
        self.units: list[Unit] = [u for u in units if u.code not in self.probe_units]
        self.procedures: dict[UnitLevel, list[Procedure]] = {
            lv: [p for p in self.province.procedures if lv in p.levels] for lv in levels
        }

    def pick(self, rng: random.Random) -> tuple[Unit, Procedure]:
        unit = rng.choice(self.units)
        return unit, rng.choice(self.procedures[unit.level])


def _working_instant(rng: random.Random, first: date, days: int) -> datetime:
    while True:
        d = first + timedelta(days=rng.randrange(days))
        if d.weekday() < 5:
            minute = rng.randrange(7 * 60 + 30, 16 * 60 + 30)
            return datetime.combine(d, time(minute // 60, minute % 60), VN)


def _due(accepted: datetime, proc: Procedure) -> datetime:
    """A rough due instant (calendar days ~ working days x 1.4): enough to vary outcomes."""
    if proc.statutory_unit == "working_hours":
        return accepted + timedelta(hours=proc.statutory_amount)
    factor = 1.0 if proc.statutory_unit == "calendar_days" else 1.4
    return accepted + timedelta(days=proc.statutory_amount * factor)


def _lifecycle(rng: random.Random) -> tuple[int, ...]:
    return rng.choices([s for s, _ in LIFECYCLES], [w for _, w in LIFECYCLES])[0]


def dossier_events(rng: random.Random, cat: Catalogue, serial: int) -> list[dict[str, Any]]:
    """One dossier's native events, in order, all before the services' clock start."""
    unit, proc = cat.pick(rng)
    accepted = _working_instant(rng, date(2026, 10, 1), 17)
    code = f"{unit.code}-{accepted:%y%m%d}-B{serial:07d}"
    facts = {
        "dossier_code": code, "unit_code": unit.code, "procedure_code": proc.code,
        "channel": rng.choice((1, 2, 2, 3)), "applicant_type": rng.choice((1, 1, 1, 2)),
        "submitted_at": (accepted - timedelta(minutes=rng.randrange(5, 600))).isoformat(),
        "accepted_at": accepted.isoformat(), "synced_national": rng.random() < 0.9,
        "digitised": rng.random() < 0.7, "vneid_verified": rng.random() < 0.5,
        "holder_name": f"Nguyễn Văn Mẫu {serial % 10000:04d}", "phone": f"09{serial % 10**8:08d}",
    }
    horizon = CLOCK_START - timedelta(hours=1)
    at, previous, events = accepted, accepted - timedelta(minutes=5), []
    for status in _lifecycle(rng):
        if status == 4:
            at += timedelta(minutes=rng.randrange(30, 360))
        elif status == 5:
            at += timedelta(hours=rng.randrange(4, 48))
        elif status == 9:
            # Early, on time or late against the rough due instant.
            at = _due(accepted, proc) + timedelta(hours=rng.uniform(-60, 30))
        elif status == 10:
            at += timedelta(hours=rng.randrange(1, 24))
        at = max(min(at, horizon), previous + timedelta(minutes=5))
        previous = at
        events.append({**facts, "status": status, "status_at": at.isoformat()})
    return events


def load_events(count: int, seed: int, first_serial: int = 0,
                cat: Catalogue | None = None) -> list[dict[str, Any]]:
    """About `count` native events. Dossiers come in waves of 400: every dossier's first step,
    then every second step, ..., so a dossier's steps are far apart in the queue (concurrent
    consumers rarely see them out of order; when they do, the service sorts them)."""
    rng, cat = random.Random(seed), cat or Catalogue()
    out: list[dict[str, Any]] = []
    serial = first_serial
    while len(out) < count:
        wave = [dossier_events(rng, cat, serial + i) for i in range(400)]
        serial += len(wave)
        for step in range(max(len(d) for d in wave)):
            out.extend(d[step] for d in wave if step < len(d))
    return out[:count]


class Probes:
    """Probe dossiers: one new dossier per probe, accepted "now", in a reserved commune. Each
    unit's probes alternate three yes/no facts with no target in the schemes (synced, VNeID,
    digitised), so each probe moves the unit's rate, hence its score, whatever came before."""

    def __init__(self, cat: Catalogue) -> None:
        self.units = cat.probe_units
        self.count: dict[str, int] = dict.fromkeys(self.units, 0)
        self.sent = 0
        self.run = uuid.uuid4().hex[:6]

    def next(self, now: datetime) -> tuple[str, dict[str, Any]]:
        unit = self.units[self.sent % len(self.units)]
        flag = self.count[unit] % 2 == 0
        self.count[unit] += 1
        self.sent += 1
        at = now.astimezone(VN).replace(microsecond=0)
        body = {"dossier_code": f"{unit}-{at:%y%m%d}-P{self.run}{self.sent:05d}", "status": 2,
                "status_at": at.isoformat(), "accepted_at": at.isoformat(), "unit_code": unit,
                "procedure_code": "1.003753", "channel": 2, "applicant_type": 1,
                "synced_national": flag, "vneid_verified": flag, "digitised": flag}
        return unit, body


def write_history(path: Path, dossiers: int, seed: int, cat: Catalogue | None = None,
                  events_per_dossier: int = 0) -> int:
    """A year (2026) of dossier events as `parpulse replay` reads them: one JSON line per
    event, each carrying the dossier's snapshot at that version. With `events_per_dossier`,
    each dossier also moves between processing steps (status 4 again) until its history has
    that many events. Returns the line count."""
    rng, cat = random.Random(seed), cat or Catalogue()
    lines = 0
    with path.open("w", encoding="utf-8") as out:
        for i in range(dossiers):
            for doc in _history(rng, cat, i, events_per_dossier):
                out.write(json.dumps(doc, separators=(",", ":")) + "\n")
                lines += 1
    return lines


def _history(rng: random.Random, cat: Catalogue, serial: int,
             events: int = 0) -> Iterator[dict[str, Any]]:
    unit, proc = cat.pick(rng)
    accepted = _working_instant(rng, date(2026, 1, 2), 360)
    due = _due(accepted, proc)
    snap: dict[str, Any] = {
        "dossier_code": f"{unit.code}-{accepted:%y%m%d}-R{serial:07d}", "version": 0,
        "unit_code": unit.code, "procedure_code": proc.code, "status": 2,
        "channel": rng.choice((1, 2, 2, 3)), "applicant_type": 1,
        "accepted_at": accepted.isoformat(), "due_at": due.isoformat(),
        "computed_due_at": due.isoformat(), "deadline_state": "within",
        "fee_bearing": proc.fee_bearing, "synced_national": rng.random() < 0.9,
        "digitised": rng.random() < 0.7, "vneid_verified": rng.random() < 0.5,
        "paid_online": rng.random() < 0.4 if proc.fee_bearing else None,
    }
    at = accepted
    statuses = list(_lifecycle(rng))
    statuses[1:1] = [4] * max(0, events - len(statuses))  # hand-offs between processing steps
    for status in statuses:
        snap["version"] += 1
        snap["status"] = status
        if status == 9:
            at = due + timedelta(hours=rng.uniform(-60, 30))
            snap["completed_at"] = at.isoformat()
            snap["outcome"] = "late" if at.date() > due.date() else (
                "on_time" if at.date() == due.date() else "early")
            snap["deadline_state"] = None
        elif status == 5:
            snap["supplement_count"] = snap.get("supplement_count", 0) + 1
        else:
            at += timedelta(hours=rng.randrange(1, 8))
        snap["paused"] = status == 5
        yield {"event_id": str(uuid.UUID(int=rng.getrandbits(128))), "type": "dossier.revised",
               "occurred_at": at.isoformat(), "schema_version": 1, "dossier": dict(snap)}
