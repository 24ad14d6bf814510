"""The runner, on a fake clock and a fake publisher: rate, order, confirms and retries."""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from datetime import datetime

import pytest
from sim_standins import PROVINCE

from services.contracts.inbound import FORMAT_DVCQG_PROGRESS, FORMAT_DVCQG_SYNC, FORMAT_NATIVE
from services.integrator.messages import FailedMessage, OutboundMessage, PublishError
from services.simulator.clock import VN_TZ
from services.simulator.model import Emission
from services.simulator.runner import run, to_messages

MONDAY_8AM = datetime(2026, 1, 5, 8, 0, tzinfo=VN_TZ)


class FakeWall(threading.Event):
    """A stop event whose wait() advances a fake wall clock instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        self.now += timeout or 0
        return self.is_set()


class FakePublisher:
    def __init__(self, fail_first: int = 0, always_fail: bool = False) -> None:
        self.sent: list[OutboundMessage] = []
        self.confirmed: list[OutboundMessage] = []
        self._open: list[OutboundMessage] = []
        self._fail_first = fail_first
        self._always_fail = always_fail

    def publish(self, message: OutboundMessage) -> str:
        self.sent.append(message)
        self._open.append(message)
        return message.message_id

    def flush(self) -> int:
        batch, self._open = self._open, []
        failing = batch if self._always_fail else batch[: self._fail_first]
        self._fail_first -= len(failing) if not self._always_fail else 0
        ok = [m for m in batch if m not in failing]
        self.confirmed += ok
        if failing:
            raise PublishError([FailedMessage(m, "unconfirmed", "test") for m in failing], len(ok))
        return len(ok)


def steps_of(messages: list[OutboundMessage]) -> list[tuple[str, int, str]]:
    """(dossier, status, time) for every step, in publishing order."""
    out = []
    for m in messages:
        body = json.loads(m.body)
        if m.fmt == FORMAT_NATIVE:
            out.append((body["dossier_code"], body["status"], body["status_at"]))
        else:
            for item in body["data"]:
                status = item.get("TrangThaiHoSo", item.get("TrangThai"))
                out.append((item["MaHoSo"], status, ""))
    return out


def test_runs_at_the_target_rate_and_publishes_steps_in_order() -> None:
    wall, publisher = FakeWall(), FakePublisher()
    stats = run(publisher, PROVINCE, rate_per_s=50, speed=300, duration_s=60, seed=1,
                dvcqg_share=0.3, stop_event=wall, start=MONDAY_8AM, wall=wall)
    assert stats.events == pytest.approx(50 * 60, rel=0.03)
    assert stats.confirmed == stats.messages == len(publisher.sent)
    assert stats.failed == 0
    assert stats.dossiers > 100 and stats.pending_steps > 0
    assert set(stats.by_format) == {FORMAT_NATIVE, FORMAT_DVCQG_SYNC, FORMAT_DVCQG_PROGRESS}
    assert stats.sim_now is not None and (stats.sim_now - MONDAY_8AM).total_seconds() == (
        pytest.approx(300 * 60, rel=0.01))
    by_dossier: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for code, status, at in steps_of(publisher.sent):
        by_dossier[code].append((status, at))
    for steps in by_dossier.values():
        assert steps[0][0] == 1
        native_times = [at for _, at in steps if at]
        assert native_times == sorted(native_times)


def test_a_stop_event_ends_the_run() -> None:
    wall, publisher = FakeWall(), FakePublisher()
    wall.set()
    stats = run(publisher, PROVINCE, 50, 600, None, 1, 0.3, wall, start=MONDAY_8AM, wall=wall)
    assert stats.events == 0 and publisher.sent == []


def test_unconfirmed_messages_are_retried_with_the_same_id() -> None:
    wall, publisher = FakeWall(), FakePublisher(fail_first=5)
    stats = run(publisher, PROVINCE, 20, 60, 10, 2, 0.0, wall, start=MONDAY_8AM, wall=wall)
    assert stats.failed == 0
    ids = [m.message_id for m in publisher.sent]
    assert len(ids) - len(set(ids)) == 5  # five ids sent twice
    assert {m.message_id for m in publisher.confirmed} == set(ids)
    assert stats.confirmed == len(publisher.confirmed)


def test_messages_never_confirmed_are_counted_as_failed() -> None:
    wall, publisher = FakeWall(), FakePublisher(always_fail=True)
    stats = run(publisher, PROVINCE, 20, 60, 5, 3, 0.0, wall, start=MONDAY_8AM, wall=wall)
    assert stats.confirmed == 0
    assert stats.failed == len({m.message_id for m in publisher.sent}) > 0
    # Three attempts each, but the last tick's messages get only one more when the run ends.
    attempts = Counter(m.message_id for m in publisher.sent)
    assert set(attempts.values()) == {2, 3}
    assert sum(1 for n in attempts.values() if n == 2) < 20


def test_fewer_dossiers_arrive_at_night() -> None:
    night = FakeWall()
    stats = run(FakePublisher(), PROVINCE, 20, 60, 30, 4, 0.3, night,
                start=MONDAY_8AM.replace(hour=22), wall=night, off_hours_arrivals=0.25)
    # Nothing else is due at night: a quarter of the 600 slots start a dossier.
    assert stats.dossiers == pytest.approx(20 * 30 * 0.25, rel=0.2)
    assert stats.by_status[1] == stats.dossiers


def emission(code: str, unit: str, status: int, fmt: str) -> Emission:
    if fmt == FORMAT_DVCQG_SYNC:
        payload = {"MaHoSo": code, "MaTTHC": "1.1", "TrangThaiHoSo": status, "DonViXuLy": unit,
                   "NgayNopHoSo": "20260105080000"}
    else:
        payload = {"MaHoSo": code, "ThoiDiemXuLy": "20260105090000", "TrangThai": status}
    return Emission(MONDAY_8AM, code, unit, status, fmt, payload)  # type: ignore[arg-type]


def test_dvcqg_steps_are_batched_per_unit_without_reordering_a_dossier() -> None:
    emissions = [
        emission("A", "U1", 1, FORMAT_DVCQG_SYNC),
        emission("B", "U1", 1, FORMAT_DVCQG_SYNC),
        emission("C", "U2", 1, FORMAT_DVCQG_SYNC),
        emission("A", "U1", 4, FORMAT_DVCQG_PROGRESS),  # A again: earlier calls go out first
        emission("D", "U1", 4, FORMAT_DVCQG_PROGRESS),
    ]
    messages = to_messages(emissions)
    assert [(m.routing_key, [d.get("MaHoSo") for d in json.loads(m.body)["data"]])
            for m in messages] == [
        ("dvcqg.DongBoHoSoMC.U1", ["A", "B"]),
        ("dvcqg.DongBoHoSoMC.U2", ["C"]),
        ("dvcqg.CapNhatTienDoHoSoMC.U1", ["A", "D"]),
    ]
