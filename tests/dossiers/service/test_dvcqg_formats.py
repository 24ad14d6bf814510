"""The DVCQG call bodies (DongBoHoSoMC, CapNhatTienDoHoSoMC) on the real broker and database."""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import func, select

from services.common.dependencies import TransactionalStore
from services.common.tables import OutboxMessage, ProcessedMessage
from services.contracts.inbound import FORMAT_DVCQG_PROGRESS, FORMAT_DVCQG_SYNC
from services.dossiers.handlers import CONSUMER
from tests.support import broker
from tests.support.services import EventTap, wait_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PERSONAL = {"ChuHoSo": "Phạm Thị Dung", "SoGiayToChuHoSo": "079188001234",
            "Email": "dung@example.vn", "SoDienThoai": "0903123456"}


def dossier(code: str, status: str = "2", **extra: Any) -> dict[str, Any]:
    return {"MaHoSo": code, "MaTTHC": "1.005342", "TenTTHC": "Cấp Phiếu lý lịch tư pháp",
            "MaLinhVuc": "LLTP", "KenhThucHien": "2", "LoaiDoiTuong": "1",
            "DonViXuLy": "H99.01", "NgayNopHoSo": "20261005073000",
            "NgayTiepNhan": "20261005080000", "NgayHenTra": "20261019000000",
            "TrangThaiHoSo": status, "TaiLieuNop": [{"DuocSoHoa": "1"}], **PERSONAL, **extra}


def sync(*dossiers: dict[str, Any]) -> dict[str, Any]:
    return {"service": "DongBoHoSoMC", "isUpdating": "False", "data": list(dossiers)}


def progress(code: str, status: int, when: str) -> dict[str, Any]:
    return {"service": "CapNhatTienDoHoSoMC", "data": [{
        "MaHoSo": code, "NguoiXuLy": "Lê Văn C", "ChucDanh": "Chuyên viên",
        "ThoiDiemXuLy": when, "PhongBanXuLy": "Phòng Hành chính tư pháp",
        "NoiDungXuLy": "Xử lý hồ sơ", "TrangThai": str(status)}]}


def of(tap: EventTap, code: str, event_type: str | None = None) -> list[dict[str, Any]]:
    return [e for e in tap.drain() if e.get("dossier", {}).get("dossier_code") == code
            and (event_type is None or e["_type"] == event_type)]


def at_status(tap: EventTap, code: str, event_type: str, status: int) -> list[dict[str, Any]]:
    return [e for e in of(tap, code, event_type) if e["dossier"]["status"] == status]


def _store(container: ServiceContainer) -> TransactionalStore:
    # The service's own engine: on SQLite a second engine in this process could wait on the
    # service's write lock while blocking the green threads that would release it.
    return next(d for d in container.dependencies if isinstance(d, TransactionalStore))


def processed(container: ServiceContainer, message_id: str) -> bool:
    with _store(container).sessions() as s:
        return s.get(ProcessedMessage, (CONSUMER, message_id)) is not None


def outbox(container: ServiceContainer, pending_only: bool = False) -> int:
    query = select(func.count()).select_from(OutboxMessage)
    if pending_only:
        query = query.where(OutboxMessage.sent_at.is_(None))
    with _store(container).sessions() as s:
        return int(s.scalar(query) or 0)


def test_a_sync_with_a_bad_dossier_applies_the_others(dossiers: dict[str, Any]) -> None:
    tap, inbound, cfg = dossiers["tap"], dossiers["inbound"], dossiers["cfg"]
    bad = dossier("H99.01-261005-1002", status="12")
    inbound.send(sync(dossier("H99.01-261005-1001"), bad, dossier("H99.01-261005-1003")),
                 fmt=FORMAT_DVCQG_SYNC)
    accepted = wait_for(lambda: len(tap.of_type("dossier.accepted")) >= 2
                        and tap.of_type("dossier.accepted"), what="two accepted dossiers")
    assert sorted(e["dossier"]["dossier_code"] for e in accepted) == [
        "H99.01-261005-1001", "H99.01-261005-1003"]
    snap = accepted[0]["dossier"]
    # NgayHenTra sent as a bare day: due at the end of that working day.
    assert datetime.fromisoformat(snap["due_at"]) == datetime(2026, 10, 19, 17, tzinfo=VN)
    assert snap["synced_national"] is True and snap["digitised"] is True
    quarantined = wait_for(lambda: tap.of_type("inbound.quarantined"), what="the bad dossier")
    assert len(quarantined) == 1
    with ClusterRpcClient(uri=cfg["AMQP_URI"]) as rpc:
        items = rpc.dossiers.list_quarantined()["items"]
    assert len(items) == 1
    item = items[0]
    assert (item["item_index"], item["reason_code"]) == (1, "unknown_status")
    assert item["source_format"] == FORMAT_DVCQG_SYNC and "TrangThaiHoSo" in item["reason"]
    assert json.loads(item["raw_payload"]) == bad
    assert of(tap, "H99.01-261005-1002") == []
    published = json.dumps(tap.events, ensure_ascii=False)
    for value in PERSONAL.values():
        assert value not in published


def test_the_same_sync_twice_emits_its_events_once(dossiers: dict[str, Any]) -> None:
    tap, inbound, container = dossiers["tap"], dossiers["inbound"], dossiers["container"]
    body = sync(dossier("H99.01-261005-2001"), dossier("H99.01-261005-2002", status="4"))
    inbound.send(body, fmt=FORMAT_DVCQG_SYNC, message_id="sync-1")
    wait_for(lambda: len(tap.of_type("dossier.accepted")) >= 2, what="the first sync")
    wait_for(lambda: outbox(container, pending_only=True) == 0, what="the first sync published")
    rows = outbox(container)
    # The national portal's nightly re-sync: the same content under a new message id.
    inbound.send(body, fmt=FORMAT_DVCQG_SYNC, message_id="sync-2")
    wait_for(lambda: processed(container, "sync-2"), what="the second sync processed")
    assert outbox(container) == rows
    kinds = sorted(e["_type"] for e in tap.drain())
    assert kinds == ["dossier.accepted"] * 2 + ["dossier.status_changed"] * 2


def test_progress_steps_pause_resume_and_complete_a_synced_dossier(
        dossiers: dict[str, Any]) -> None:
    tap, inbound, cfg = dossiers["tap"], dossiers["inbound"], dossiers["cfg"]
    code = "H99.01-261005-3001"
    inbound.send(sync(dossier(code)), fmt=FORMAT_DVCQG_SYNC)
    wait_for(lambda: of(tap, code, "dossier.accepted"), what="the synced dossier")
    # Each step waits for the one before: steps arriving out of order would be applied, but
    # as revisions of history rather than as these announcements.
    for status, when, announced in [(4, "20261005090000", "dossier.status_changed"),
                                    (5, "20261006100000", "dossier.paused"),
                                    (4, "20261008140000", "dossier.resumed"),
                                    (9, "20261009160000", "dossier.completed")]:
        inbound.send(progress(code, status, when), fmt=FORMAT_DVCQG_PROGRESS)
        wait_for(partial(at_status, tap, code, announced, status), what=announced)
    events = of(tap, code)
    assert [e["_type"] for e in events] == [
        "dossier.accepted", "dossier.status_changed",
        "dossier.status_changed",
        "dossier.status_changed", "dossier.paused",
        "dossier.status_changed", "dossier.resumed",
        "dossier.status_changed", "dossier.completed",
    ]
    versions = [e["dossier"]["version"] for e in events]
    assert versions == sorted(versions) and versions[-1] == 5
    assert events[4]["reason"] == 5
    done = events[-1]
    assert done["outcome"] == "early"
    assert done["dossier"]["completed_at"] is not None
    with ClusterRpcClient(uri=cfg["AMQP_URI"]) as rpc:
        detail = rpc.dossiers.get_dossier(code)
    assert [h["status"] for h in detail["history"]] == [2, 4, 5, 4, 9]
    assert [(p["start"], p["end"]) for p in detail["pauses"]] == [
        ("2026-10-06T10:00:00+07:00", "2026-10-08T14:00:00+07:00")]
    # The unit is still the one the sync named: steps say nothing about units.
    assert detail["dossier"]["unit_code"] == "H99.01"


def test_a_progress_step_for_an_unknown_dossier_is_quarantined(dossiers: dict[str, Any]) -> None:
    tap, inbound, cfg = dossiers["tap"], dossiers["inbound"], dossiers["cfg"]
    body = progress("H99.01-261005-9999", 4, "20261005090000")
    inbound.send(body, fmt=FORMAT_DVCQG_PROGRESS)
    wait_for(lambda: tap.of_type("inbound.quarantined"), what="the quarantined step")
    with ClusterRpcClient(uri=cfg["AMQP_URI"]) as rpc:
        items = rpc.dossiers.list_quarantined()["items"]
        assert rpc.dossiers.get_dossier("H99.01-261005-9999") is None
    assert len(items) == 1
    item = items[0]
    assert (item["reason_code"], item["item_index"]) == ("unknown_dossier", 0)
    assert item["source_format"] == FORMAT_DVCQG_PROGRESS
    assert "H99.01-261005-9999" in item["reason"]
    assert json.loads(item["raw_payload"]) == body["data"][0]


def test_a_nul_character_is_quarantined_with_a_reason_not_dead_lettered(
        dossiers: dict[str, Any]) -> None:
    # PostgreSQL text cannot hold U+0000: without the check, the write fails and the message
    # ends in the DLQ instead of the quarantine an operator can read and re-inject.
    tap, inbound, cfg = dossiers["tap"], dossiers["inbound"], dossiers["cfg"]
    nul = dossier("H99.01-261005-1102", ChuHoSo="Phạm\u0000Dung")
    inbound.send(sync(dossier("H99.01-261005-1101"), nul), fmt=FORMAT_DVCQG_SYNC)
    native = {"dossier_code": "H99.01-261005-1103", "status": 2,
              "status_at": "2026-10-05T08:00:00+07:00", "unit_code": "H99\u0000.01",
              "procedure_code": "1.005342"}
    inbound.send(native, message_id="native-with-nul\u0000")
    wait_for(lambda: len(tap.of_type("inbound.quarantined")) >= 2, what="two quarantined items")
    assert [e["dossier"]["dossier_code"] for e in tap.of_type("dossier.accepted")] == [
        "H99.01-261005-1101"]
    with ClusterRpcClient(uri=cfg["AMQP_URI"]) as rpc:
        items = rpc.dossiers.list_quarantined()["items"]
    assert sorted((i["item_index"] is None, i["reason_code"]) for i in items) == [
        (False, "invalid_text"), (True, "invalid_text")]
    assert all("NUL" in i["reason"] for i in items)
    assert broker.queue_info(cfg["AMQP_URI"], "dossiers.inbound.dlq").get("messages", 0) == 0
