"""Duplicated and reordered inbound traffic, and the same DVCQG sync sent twice: each statement
is counted once, and the scores equal a replay of the stored history."""

from __future__ import annotations

import json
import random

from sqlalchemy import select

from services.common.db import make_engine, session_factory
from services.common.tables import OutboxMessage
from services.integrator.messages import OutboundMessage, dvcqg_sync_message, native_message
from tests.faults.conftest import PrivatePostgres
from tests.faults.faults_support import (
    Load,
    await_exactly_once,
    lifecycles,
    pipeline,
    publish_confirmed,
)

SYNC = {"service": "DongBoHoSoMC", "isUpdating": "False", "data": [
    {"MaHoSo": "H99.01-261005-7001", "MaTTHC": "1.005342", "DonViXuLy": "H99.01",
     "KenhThucHien": 2, "TrangThaiHoSo": 4, "NgayNopHoSo": "20261005074500",
     "NgayTiepNhan": "20261005080000", "NgayHenTra": "20261019080000",
     "TaiLieuNop": [{"DuocSoHoa": 1, "DuocTaiSuDung": 0}], "DanhSachHoSoBoSung": []},
    {"MaHoSo": "H99.02-261005-7002", "MaTTHC": "2.006481", "DonViXuLy": "H99.02",
     "KenhThucHien": 1, "TrangThaiHoSo": 9, "NgayNopHoSo": "20261001074500",
     "NgayTiepNhan": "20261001080000", "NgayKetThucXuLy": "20261002150000"}]}


def outbox_events(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url, pool_size=1)
    with session_factory(engine)() as s:
        rows = [(r.message_type, json.loads(r.body).get("dossier", {}).get("dossier_code", ""))
                for r in s.scalars(select(OutboxMessage))]
    engine.dispose()
    return rows


def test_duplicates_reordering_and_a_repeated_sync_count_once(
        vhost: str, private_pg: PrivatePostgres) -> None:
    rng = random.Random(7005)
    bodies = lifecycles(rng, 40, "H99.02-DUP")
    originals = [native_message(b) for b in bodies]
    # The broker redelivers some (same id); the integrator re-sends others (new id, same body).
    same_id = rng.sample(originals, 30)
    resent = [native_message(json.loads(m.body)) for m in rng.sample(originals, 30)]
    traffic: list[OutboundMessage] = originals + same_id + resent
    rng.shuffle(traffic)
    first_sync = dvcqg_sync_message(SYNC)
    d_url, s_url = private_pg.create_database(), private_pg.create_database()
    load = Load()
    with pipeline(vhost, d_url, s_url):
        publish_confirmed(vhost, [first_sync], load)
        await_exactly_once(load, d_url, s_url, timeout=60)
        after_first = outbox_events(d_url)
        # The same sync again: under its old id (a redelivery) and under a new one (a re-send).
        publish_confirmed(vhost, [first_sync, dvcqg_sync_message(SYNC)], load)
        publish_confirmed(vhost, traffic, load)
        await_exactly_once(load, d_url, s_url, timeout=90)
        events = outbox_events(d_url)
    sync_codes = {d["MaHoSo"] for d in SYNC["data"]}
    assert {code for _, code in after_first} == sync_codes
    assert [e for e in events if e[1] in sync_codes] == after_first, \
        "a repeated sync must not emit anything"
    # One acceptance event per dossier, however often its acceptance was stated.
    accepted = [code for kind, code in events if kind == "dossier.accepted"]
    assert len(accepted) == len(set(accepted)) == 40 + len(sync_codes)
