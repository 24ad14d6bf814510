"""The traffic generator: reproducible, valid against the contracts, legal lifecycles, shares."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from sim_standins import PROVINCE

from services.contracts.dossiers import Channel, Status
from services.contracts.inbound import (
    FORMAT_DVCQG_PROGRESS,
    FORMAT_DVCQG_SYNC,
    FORMAT_NATIVE,
    DvcqgDossier,
    DvcqgProgress,
    DvcqgProgressStep,
    DvcqgSync,
    NativeDossierEvent,
)
from services.simulator.clock import VN_TZ, is_working, next_working
from services.simulator.model import Emission
from services.simulator.runner import to_messages
from services.simulator.traffic import TrafficConfig, TrafficGenerator

START = datetime(2026, 1, 5, 7, 0, tzinfo=VN_TZ)  # a Monday
LEGAL = {
    (1, 2), (1, 3), (2, 4), (4, 5), (5, 4), (4, 6), (6, 4), (4, 7), (4, 9), (9, 10),
}
TERMINAL_OR_DECIDED = {3, 7, 9, 10}


def working_times(n: int, step: timedelta = timedelta(minutes=3)) -> list[datetime]:
    times, t = [], START
    for _ in range(n):
        t = next_working(t + step)
        times.append(t)
    return times


def generate(seed: int, n: int, config: TrafficConfig | None = None) -> list[list[Emission]]:
    generator = TrafficGenerator(PROVINCE, random.Random(seed), config)
    return [generator.new_dossier(t) for t in working_times(n)]


@pytest.fixture(scope="module")
def dossiers() -> list[list[Emission]]:
    return generate(2026, 3000)


def decoded(e: Emission) -> NativeDossierEvent | DvcqgDossier | DvcqgProgressStep:
    if e.fmt == FORMAT_NATIVE:
        return NativeDossierEvent.model_validate(e.payload)
    if e.fmt == FORMAT_DVCQG_SYNC:
        return DvcqgDossier.model_validate(e.payload)
    assert e.fmt == FORMAT_DVCQG_PROGRESS
    return DvcqgProgressStep.model_validate(e.payload)


def share(items: list[Any], pred: Any) -> float:
    return sum(1 for i in items if pred(i)) / len(items)


def test_the_same_seed_gives_the_same_events_and_another_seed_does_not() -> None:
    assert generate(7, 200) == generate(7, 200)
    assert generate(7, 200) != generate(8, 200)


def test_every_step_validates_as_its_contract_model(dossiers: list[list[Emission]]) -> None:
    for steps in dossiers:
        for e in steps:
            model = decoded(e)
            if isinstance(model, NativeDossierEvent):
                assert model.status == e.status
            elif isinstance(model, DvcqgDossier):
                assert model.TrangThaiHoSo == e.status
            else:
                assert model.TrangThai == e.status
    flat = [e for steps in dossiers for e in steps]
    for message in to_messages(flat):
        body = json.loads(message.body)
        if message.fmt == FORMAT_DVCQG_SYNC:
            assert DvcqgSync.model_validate(body).data
        elif message.fmt == FORMAT_DVCQG_PROGRESS:
            assert DvcqgProgress.model_validate(body).data
        else:
            NativeDossierEvent.model_validate(body)


def test_lifecycles_are_legal_sequences_with_increasing_times(
    dossiers: list[list[Emission]],
) -> None:
    ends: dict[int, int] = defaultdict(int)
    for steps in dossiers:
        statuses = [int(e.status) for e in steps]
        assert statuses[0] == 1
        assert all(pair in LEGAL for pair in itertools.pairwise(statuses)), statuses
        assert statuses[-1] in TERMINAL_OR_DECIDED
        times = [e.at for e in steps]
        assert all(a < b for a, b in itertools.pairwise(times))
        assert len({e.dossier_code for e in steps}) == 1
        ends[statuses[-1]] += 1
    assert set(ends) == TERMINAL_OR_DECIDED  # every ending occurs
    codes = [steps[0].dossier_code for steps in dossiers]
    assert len(set(codes)) == len(codes)


def test_status_times_match_the_step_in_both_formats(dossiers: list[list[Emission]]) -> None:
    for steps in dossiers:
        for e in steps:
            model = decoded(e)
            if isinstance(model, NativeDossierEvent):
                assert model.status_at == e.at
            elif isinstance(model, DvcqgProgressStep):
                assert model.ThoiDiemXuLy == e.at
            else:
                dated = {1: model.NgayNopHoSo, 2: model.NgayTiepNhan, 9: model.NgayKetThucXuLy,
                         10: model.NgayTra}
                assert dated[int(e.status)] == e.at


def test_shares_are_roughly_as_configured(dossiers: list[list[Emission]]) -> None:
    firsts = [decoded(steps[0]) for steps in dossiers]
    channels = [m.channel if isinstance(m, NativeDossierEvent) else m.KenhThucHien
                for m in firsts if not isinstance(m, DvcqgProgressStep)]
    assert len(channels) == len(firsts)
    assert share(channels, lambda c: c == Channel.ONLINE) == pytest.approx(0.45, abs=0.035)
    assert share(channels, lambda c: c == Channel.POST) == pytest.approx(0.02, abs=0.01)
    assert share(dossiers, lambda s: s[0].fmt != FORMAT_NATIVE) == pytest.approx(0.30, abs=0.03)
    statuses = [[int(e.status) for e in steps] for steps in dossiers]
    assert share(statuses, lambda s: 3 in s) == pytest.approx(0.03, abs=0.012)
    assert share(statuses, lambda s: 7 in s) == pytest.approx(0.01, abs=0.008)
    with_supplement = [s for s in statuses if 5 in s]
    assert len(with_supplement) / len(dossiers) == pytest.approx(0.12 * 0.96, abs=0.02)
    assert share(with_supplement, lambda s: s.count(5) == 2) == pytest.approx(0.15, abs=0.05)
    assert share(statuses, lambda s: 6 in s) > 0.05
    decided = [s for s in statuses if 9 in s]
    assert share(decided, lambda s: 10 in s) == pytest.approx(0.95, abs=0.02)


def test_a_configured_share_of_decided_dossiers_finishes_after_its_due_date(
    dossiers: list[list[Emission]],
) -> None:
    late = []
    for steps in dossiers:
        native = [decoded(e) for e in steps if e.fmt == FORMAT_NATIVE]
        decided = [m for m in native if isinstance(m, NativeDossierEvent) and m.status == 9]
        if decided:
            event = decided[0]
            assert event.completed_at is not None and event.source_due_at is not None
            late.append(event.completed_at > event.source_due_at)
    assert len(late) > 1500
    assert sum(late) / len(late) == pytest.approx(0.08, abs=0.025)


def test_supplements_move_the_due_date_by_the_paused_time(dossiers: list[list[Emission]]) -> None:
    checked = 0
    for steps in dossiers:
        syncs = [decoded(e) for e in steps if e.fmt == FORMAT_DVCQG_SYNC]
        if not syncs:
            continue
        last = syncs[-1]
        assert isinstance(last, DvcqgDossier)
        for sup in last.DanhSachHoSoBoSung:
            assert sup.NgayBoSung and sup.NgayTiepNhanBoSung and sup.NgayBoSung < (
                sup.NgayTiepNhanBoSung)
            assert sup.NgayHenTraTruoc and sup.NgayHenTraMoi and sup.NgayHenTraTruoc < (
                sup.NgayHenTraMoi)
            checked += 1
    assert checked > 20


def test_officials_act_in_working_hours_mostly(dossiers: list[list[Emission]]) -> None:
    accepted = [e.at for steps in dossiers for e in steps if e.status == Status.ACCEPTED]
    decided = [e.at for steps in dossiers for e in steps if e.status == Status.DECIDED]
    assert share(accepted, is_working) > 0.95
    assert share(accepted, is_working) < 1.0  # a few work late
    assert share(decided, lambda t: is_working(t) or t.strftime("%H:%M") in {"11:30", "17:00"})\
        == 1.0


def test_flags_have_realistic_shares(dossiers: list[list[Emission]]) -> None:
    natives = [NativeDossierEvent.model_validate(e.payload)
               for steps in dossiers for e in steps if e.fmt == FORMAT_NATIVE]
    first = [m for m in natives if m.status == 1]
    decided = [m for m in natives if m.status == 9]
    assert share(first, lambda m: m.digitised) == pytest.approx(0.75, abs=0.04)
    online = [m for m in first if m.channel == Channel.ONLINE]
    assert share(online, lambda m: m.vneid_verified) == pytest.approx(0.85, abs=0.05)
    assert all(m.e_result is None for m in first)
    assert share(decided, lambda m: m.e_result) == pytest.approx(0.6, abs=0.05)
    fee_bearing = {"1.000001", "1.000002", "1.000004"}
    assert not any(m.paid_online for m in first if m.procedure_code not in fee_bearing)


def test_personal_data_is_obviously_fake(dossiers: list[list[Emission]]) -> None:
    seen = 0
    for steps in dossiers:
        for e in steps:
            p = e.payload
            if e.fmt == FORMAT_DVCQG_PROGRESS:
                assert "Mẫu" in p["NguoiXuLy"]
                continue
            name = str(p.get("holder_name", p.get("ChuHoSo")))
            id_number = str(p.get("holder_id_number", p.get("SoGiayToChuHoSo")))
            email = str(p.get("email", p.get("Email")))
            phone = str(p.get("phone", p.get("SoDienThoai")))
            assert "Mẫu" in name
            assert re.fullmatch(r"000\d{9}|0000\d{6}", id_number)
            assert re.fullmatch(r"mau\.\d{4}@example\.com", email)
            assert re.fullmatch(r"09000\d{5}", phone)
            seen += 1
    assert seen > 10000


def test_only_existing_filing_units_and_their_procedures_are_used() -> None:
    levels = {u.code: u.level for u in PROVINCE.units}
    proc_levels = {p.code: p.levels for p in PROVINCE.procedures}
    for when, expected in ((datetime(2025, 6, 2, 8, tzinfo=VN_TZ), {"H98.40.03"}),
                           (datetime(2025, 7, 7, 8, tzinfo=VN_TZ), {"H98.40.01", "H98.40.02"})):
        generator = TrafficGenerator(PROVINCE, random.Random(1))
        firsts = [generator.new_dossier(when + timedelta(minutes=i))[0] for i in range(400)]
        units = {e.unit_code for e in firsts}
        assert {u for u in units if levels[u] == "commune"} == expected
        assert not {levels[u] for u in units} & {"province", "district"}
        for e in firsts:
            code = e.payload.get("procedure_code") or e.payload["MaTTHC"]
            assert levels[e.unit_code] in proc_levels[code]


def test_out_of_hours_filings_are_online() -> None:
    generator = TrafficGenerator(PROVINCE, random.Random(3), TrafficConfig(dvcqg_share=0))
    night = datetime(2026, 1, 5, 21, 0, tzinfo=VN_TZ)
    firsts = [generator.new_dossier(night + timedelta(minutes=i))[0] for i in range(200)]
    assert {e.payload["channel"] for e in firsts} == {Channel.ONLINE}


def test_configured_shares_are_honoured() -> None:
    config = TrafficConfig(online_share=0.9, dvcqg_share=0.0, late_share=0.5, refused_share=0)
    dossiers = generate(11, 1500, config)
    firsts = [steps[0].payload for steps in dossiers]
    assert share(firsts, lambda p: p["channel"] == Channel.ONLINE) == pytest.approx(0.9, abs=0.03)
    assert all(steps[0].fmt == FORMAT_NATIVE for steps in dossiers)
    decided = [e.payload for steps in dossiers for e in steps if e.status == Status.DECIDED]
    late = share(decided, lambda p: p["completed_at"] > p["source_due_at"])
    assert late == pytest.approx(0.5, abs=0.05)


def test_the_demo_province_generates_valid_traffic() -> None:
    from services.common.reference import load_province

    province = load_province("demo")
    generator = TrafficGenerator(province, random.Random(9))
    steps = [e for t in working_times(300) for e in generator.new_dossier(t)]
    units = {u.code: u for u in province.units}
    for e in steps:
        decoded(e)
        unit = units[e.unit_code]
        assert unit.level not in {"province", "district"}
        assert unit.is_valid_on(START.date())
    assert len({e.unit_code for e in steps}) > 20
