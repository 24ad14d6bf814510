"""From inbound messages (native, DVCQG sync, DVCQG progress) to reports or quarantine reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.common.entrypoints import InboundMessage
from services.contracts.inbound import (
    FORMAT_DVCQG_PROGRESS,
    FORMAT_DVCQG_SYNC,
    FORMAT_NATIVE,
)
from services.dossiers.adapters.inbound import Item, parse, source_due_at
from services.dossiers.domain.dossier import PERSONAL_FIELDS, Report
from services.dossiers.domain.sla import Pause

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "H99.01-261005-0001"


def vn(day: int, hour: int = 0, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


def message(body: Any, fmt: str | None = FORMAT_NATIVE, *, raw: bytes | None = None,
            header: str | None = None) -> InboundMessage:
    return InboundMessage(
        body=raw if raw is not None else json.dumps(body, ensure_ascii=False).encode(),
        message_id="m-1", message_type=fmt, routing_key="test",
        headers={"parpulse-format": header} if header else {},
    )


def one(items: list[Item]) -> Item:
    assert len(items) == 1
    return items[0]


def report_of(item: Item) -> Report:
    assert item.rejected is None, item.rejected.reason
    assert item.report is not None
    return item.report


def rejection(item: Item) -> tuple[str, str]:
    assert item.report is None and item.rejected is not None
    return item.rejected.code, item.rejected.reason


# -- native format ---------------------------------------------------------------------------

def native(**extra: Any) -> dict[str, Any]:
    return {"dossier_code": CODE, "status": 2, "status_at": "2026-10-05T08:00:00+07:00",
            "unit_code": "H99.01", "procedure_code": "1.005342", **extra}


def test_native_event_becomes_one_report() -> None:
    body = native(channel=2, applicant_type=1, accepted_at="2026-10-05T08:00:00+07:00",
                  source_due_at="2026-10-19T17:00:00+07:00", paid_online=True,
                  holder_name="Nguyễn Văn Mẫu", phone="0912345678", email="",
                  unknown_extra_field="kept in the raw payload only")
    item = one(parse(message(body)))
    r = report_of(item)
    assert (r.dossier_code, r.status, r.status_at) == (CODE, 2, vn(5, 8))
    assert (r.unit_code, r.procedure_code, item.unit_code) == ("H99.01", "1.005342", "H99.01")
    assert r.facts == {"channel": 2, "applicant_type": 1, "accepted_at": vn(5, 8),
                       "source_due_at": vn(19, 17), "paid_online": True}
    assert type(r.facts["channel"]) is int  # not the enum: facts are stored as JSON
    assert r.personal == {"holder_name": "Nguyễn Văn Mẫu", "phone": "0912345678"}
    assert r.supplements is None and r.apology_issued is False
    assert item.index is None and item.raw == message(body).body


def test_native_apology_is_flagged_by_its_new_date() -> None:
    r = report_of(one(parse(message(native(status=4,
                                           apology_new_due_at="2026-10-23T17:00:00+07:00")))))
    assert r.apology_issued is True
    assert r.facts["apology_new_due_at"] == vn(23, 17)


@pytest.mark.parametrize(("field", "value"), [
    ("dossier_code", ""),
    ("dossier_code", "x" * 65),
    ("status_at", "2026-10-05T08:00:00"),  # no offset: ambiguous
    ("status_at", "yesterday"),
    ("unit_code", "U" * 65),
    ("channel", 9),
    ("applicant_type", 5),
    ("submitted_at", "05/10/2026"),
    ("source_due_at", "next Friday"),
    ("paid_online", "perhaps"),
])
def test_every_native_field_error_names_the_field(field: str, value: Any) -> None:
    item = one(parse(message(native(**{field: value}))))
    code, reason = rejection(item)
    assert code == "invalid_fields"
    assert reason.startswith(f"{field}: ")
    assert repr(value) in reason  # the bad value, so a person can see what was sent


@pytest.mark.parametrize("field", ["dossier_code", "status", "status_at"])
def test_a_missing_native_field_is_named(field: str) -> None:
    body = native()
    del body[field]
    code, reason = rejection(one(parse(message(body))))
    assert code == "invalid_fields"
    assert reason == f"{field}: Field required"


@pytest.mark.parametrize("status", [0, 11, 42, "accepted"])
def test_unknown_native_status(status: Any) -> None:
    code, reason = rejection(one(parse(message(native(status=status)))))
    assert code == "unknown_status"
    assert reason.startswith("status: ") and repr(status) in reason


@pytest.mark.parametrize("missing", ["unit_code", "procedure_code"])
def test_native_event_without_unit_or_procedure(missing: str) -> None:
    body = native()
    del body[missing]
    item = one(parse(message(body)))
    code, reason = rejection(item)
    assert code == "invalid_fields"
    assert "unit_code and procedure_code are required" in reason
    assert item.unit_code == body.get("unit_code")


def test_native_body_that_is_not_an_object() -> None:
    code, reason = rejection(one(parse(message([native()]))))
    assert code == "invalid_fields" and reason.startswith("body: ")


def test_several_errors_are_all_named() -> None:
    _, reason = rejection(one(parse(message(native(channel=9, applicant_type=0,
                                                   paid_online="x")))))
    assert all(f in reason for f in ("channel", "applicant_type", "paid_online"))


@pytest.mark.parametrize(("field", "value"), [
    ("holder_id_number", 1234567890123),
    ("phone", 912345678),
])
def test_a_bad_personal_value_is_never_echoed_in_the_reason(field: str, value: Any) -> None:
    _, reason = rejection(one(parse(message(native(**{field: value})))))
    assert field in reason and str(value) not in reason


# -- whole-message problems --------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe\x00garbage", b'{"a": 1'])
def test_malformed_json_is_rejected_whole_with_its_raw_bytes(raw: bytes) -> None:
    item = one(parse(message(None, raw=raw)))
    code, reason = rejection(item)
    assert code == "malformed_json" and reason.startswith("body is not valid JSON")
    assert item.raw == raw and item.index is None


@pytest.mark.parametrize("fmt", [None, "", "csv.v1", "dvcqg.SomethingElse"])
def test_unknown_format_is_rejected_whole(fmt: str | None) -> None:
    code, reason = rejection(one(parse(message(native(), fmt))))
    assert code == "unknown_format"
    for known in (FORMAT_NATIVE, FORMAT_DVCQG_SYNC, FORMAT_DVCQG_PROGRESS):
        assert known in reason


def test_the_format_header_wins_over_the_type_property() -> None:
    item = one(parse(message(native(), "something/else", header=FORMAT_NATIVE)))
    assert report_of(item).status == 2


# -- DVCQG DongBoHoSoMC ------------------------------------------------------------------------

PERSONAL = {"ChuHoSo": "Nguyễn Văn Mẫu", "SoGiayToChuHoSo": "001099012345",
            "Email": "mau@example.vn", "SoDienThoai": "0912345678"}


def dossier(code: str = CODE, status: int | str = 2, **extra: Any) -> dict[str, Any]:
    return {"MaHoSo": code, "MaTTHC": "1.005342", "TenTTHC": "Cấp Phiếu lý lịch tư pháp",
            "DonViXuLy": "H99.01", "TrangThaiHoSo": str(status), "KenhThucHien": "2",
            "LoaiDoiTuong": "1", "NgayNopHoSo": "20261005073000",
            "NgayTiepNhan": "20261005080000", "NgayHenTra": "20261019163000", **PERSONAL,
            **extra}


def sync(*dossiers: dict[str, Any], service: str = "DongBoHoSoMC") -> InboundMessage:
    return message({"service": service, "isUpdating": "False", "data": list(dossiers)},
                   FORMAT_DVCQG_SYNC)


def sync_report(**extra: Any) -> Report:
    return report_of(one(parse(sync(dossier(**extra)))))


def test_sync_dossier_becomes_a_report() -> None:
    item = one(parse(sync(dossier(SoHoSoLuuTru="unknown field, accepted"))))
    r = report_of(item)
    assert (r.dossier_code, r.status, r.status_at) == (CODE, 2, vn(5, 8))
    assert (r.unit_code, r.procedure_code, item.unit_code) == ("H99.01", "1.005342", "H99.01")
    assert r.facts == {"channel": 2, "applicant_type": 1, "submitted_at": vn(5, 7, 30),
                       "accepted_at": vn(5, 8), "source_due_at": vn(19, 16, 30),
                       "synced_national": True}
    assert r.supplements == ()
    assert item.index == 0


def test_sync_personal_data_is_kept_only_in_personal() -> None:
    r = sync_report()
    assert r.personal == {"holder_name": "Nguyễn Văn Mẫu", "holder_id_number": "001099012345",
                          "email": "mau@example.vn", "phone": "0912345678"}
    assert set(r.personal) <= set(PERSONAL_FIELDS)
    facts = json.dumps(r.facts, default=str, ensure_ascii=False)
    for value in PERSONAL.values():
        assert value not in facts
    assert not set(PERSONAL_FIELDS) & set(r.facts)


def test_a_sync_with_one_bad_dossier_applies_the_others() -> None:
    bad = dossier("H99.01-261005-0002", status=12, DonViXuLy="H99.02")
    items = parse(sync(dossier("H99.01-261005-0001"), bad, dossier("H99.01-261005-0003")))
    assert [i.index for i in items] == [0, 1, 2]
    assert [report_of(items[i]).dossier_code for i in (0, 2)] == [
        "H99.01-261005-0001", "H99.01-261005-0003"]
    code, reason = rejection(items[1])
    assert code == "unknown_status" and reason.startswith("TrangThaiHoSo: ")
    assert "'12'" in reason
    # The bad dossier's own JSON is kept, not the whole batch, to be fixed and re-injected.
    assert json.loads(items[1].raw) == bad
    assert items[1].unit_code == "H99.02"


@pytest.mark.parametrize(("field", "value"), [
    ("MaHoSo", ""),
    ("MaTTHC", None),
    ("DonViXuLy", ""),
    ("NgayTiepNhan", "2026-10-05 08:00"),
    ("NgayHenTra", "20261345000000"),
    ("KenhThucHien", "7"),
    ("LoaiDoiTuong", "9"),
    ("HoSoCoThanhPhanSoHoa", "yes"),
    ("DuocThanhToanTrucTuyen", "3"),
])
def test_every_sync_field_error_names_the_field(field: str, value: Any) -> None:
    code, reason = rejection(one(parse(sync(dossier(**{field: value})))))
    assert code == "invalid_fields"
    assert reason.startswith(f"{field}: ")


def test_a_nested_field_error_names_its_path() -> None:
    bad = dossier(TaiLieuNop=[{"DuocSoHoa": 1}, {"DuocSoHoa": "maybe"}])
    _, reason = rejection(one(parse(sync(bad))))
    assert reason.startswith("TaiLieuNop.1.DuocSoHoa: ") and "'maybe'" in reason


def test_a_bad_personal_sync_value_is_withheld() -> None:
    _, reason = rejection(one(parse(sync(dossier(SoGiayToChuHoSo=1099012345)))))
    assert "SoGiayToChuHoSo" in reason and "1099012345" not in reason


@pytest.mark.parametrize(("status", "dates", "expected"), [
    (1, {}, vn(5, 7, 30)),
    (2, {}, vn(5, 8)),
    (2, {"NgayTiepNhan": ""}, vn(5, 7, 30)),  # acceptance not dated: the submission
    (3, {}, vn(5, 8)),
    (9, {"NgayKetThucXuLy": "20261012100000"}, vn(12, 10)),
    (10, {"NgayKetThucXuLy": "20261012100000", "NgayTra": "20261013090000"}, vn(13, 9)),
    (10, {"NgayKetThucXuLy": "20261012100000"}, vn(12, 10)),
    # Other statuses: the latest date the record shows.
    (4, {}, vn(5, 8)),
    (4, {"DanhSachHoSoBoSung": [{"NgayBoSung": "20261006090000",
                                 "NgayTiepNhanBoSung": "20261008140000"}]}, vn(8, 14)),
    # Still waiting for the supplement: its request, not an earlier resumption.
    (5, {"DanhSachHoSoBoSung": [{"NgayBoSung": "20261006090000",
                                 "NgayTiepNhanBoSung": "20261008140000"},
                                {"NgayBoSung": "20261007090000"}]}, vn(7, 9)),
    (5, {"DanhSachHoSoBoSung": [{"NgayBoSung": "20261006090000",
                                 "NgayTiepNhanBoSung": "20261008140000"}]}, vn(6, 9)),
    (8, {"NgayKetThucXuLy": "20261009100000"}, vn(9, 10)),
    (7, {}, vn(5, 8)),
])
def test_sync_status_time(status: int, dates: dict[str, Any], expected: datetime) -> None:
    assert sync_report(status=status, **dates).status_at == expected


@pytest.mark.parametrize(("status", "dates"), [
    (9, {}),
    (10, {}),
    (1, {"NgayNopHoSo": ""}),
    (4, {"NgayTiepNhan": ""}),
])
def test_sync_without_a_date_for_its_status_is_rejected(status: int,
                                                        dates: dict[str, Any]) -> None:
    code, reason = rejection(one(parse(sync(dossier(status=status, **dates)))))
    assert code == "invalid_fields"
    assert f"no date for status {status}" in reason


@pytest.mark.parametrize(("value", "expected"), [
    (0, False), (1, True), ("0", False), ("1", True), ("True", True), ("False", False),
    (True, True), ("true", True), (2, True), ("2", True), ("", None), (None, None),
])
def test_sync_flags(value: Any, expected: bool | None) -> None:
    facts = sync_report(DuocThanhToanTrucTuyen=value, TaiKhoanDuocXacThucVoiVNeID=value).facts
    assert facts.get("paid_online") is expected
    assert facts.get("vneid_verified") is expected
    assert (value in ("", None)) == ("paid_online" not in facts)


def test_document_flags_are_aggregated() -> None:
    facts = sync_report(TaiLieuNop=[
        {"TenTepDinhKem": "don.pdf", "DuocSoHoa": 0, "DuocTaiSuDung": "1"},
        {"DuocSoHoa": "True", "DuocLayTuKhoDMQG": "False"},
        {"DuocLayTuKhoDMQG": "0"},
    ]).facts
    assert facts["digitised"] is True  # any document digitised
    assert facts["data_reused"] is True
    assert facts["from_national_store"] is False  # known, and none was


def test_document_flags_not_sent_stay_unknown() -> None:
    facts = sync_report(TaiLieuNop=[{"TenTepDinhKem": "don.pdf"}]).facts
    assert not {"digitised", "data_reused", "from_national_store"} & set(facts)


def test_dossier_digitisation_flag_counts_with_the_documents() -> None:
    assert sync_report(HoSoCoThanhPhanSoHoa="1").facts["digitised"] is True
    assert sync_report(HoSoCoThanhPhanSoHoa="0", TaiLieuNop=[{"DuocSoHoa": 1}]
                       ).facts["digitised"] is True
    assert sync_report(HoSoCoThanhPhanSoHoa="0").facts["digitised"] is False


def test_result_documents_mean_an_electronic_result() -> None:
    assert sync_report(status=9, NgayKetThucXuLy="20261012100000",
                       DanhSachGiayToKetQua=[{"TenGiayTo": "Phiếu LLTP"}]).facts["e_result"]
    assert "e_result" not in sync_report(DanhSachGiayToKetQua=[]).facts


def test_supplement_list_becomes_pauses() -> None:
    r = sync_report(status=5, DanhSachHoSoBoSung=[
        {"NgayBoSung": "20261006090000", "NgayTiepNhanBoSung": "20261008140000",
         "NgayHenTraTruoc": "20261019163000", "NgayHenTraMoi": "20261021163000"},
        {"NgayBoSung": "20261009100000", "NgayTiepNhanBoSung": ""},
        {"NgayHenTraMoi": "20261023163000"},  # no request date: nothing to pause
    ])
    assert r.supplements == (Pause(vn(6, 9), vn(8, 14)), Pause(vn(9, 10), None))


# -- NgayHenTra given as a day -----------------------------------------------------------------

def test_due_date_at_midnight_means_the_end_of_that_working_day() -> None:
    assert sync_report(NgayHenTra="20261019000000").facts["source_due_at"] == vn(19, 17)


@pytest.mark.parametrize(("given", "expected"), [
    (vn(19), vn(19, 17)),
    (vn(19, 0, 1), vn(19, 0, 1)),  # a time was given: kept
    (vn(19, 16, 30), vn(19, 16, 30)),
    (datetime(2026, 10, 18, 17, tzinfo=UTC), vn(19, 17)),  # Vietnam's midnight, in UTC
    (datetime(2026, 10, 19, 0, tzinfo=UTC), datetime(2026, 10, 19, 0, tzinfo=UTC)),
    (None, None),
])
def test_source_due_at(given: datetime | None, expected: datetime | None) -> None:
    got = source_due_at(given)
    assert got == expected
    if got is not None:
        assert got.tzinfo is not None


def test_sync_due_date_not_sent() -> None:
    assert "source_due_at" not in sync_report(NgayHenTra="").facts


# -- envelopes ---------------------------------------------------------------------------------

def test_empty_data_list_is_rejected_whole() -> None:
    for msg in (sync(), message({"service": "CapNhatTienDoHoSoMC", "data": []},
                                FORMAT_DVCQG_PROGRESS)):
        code, reason = rejection(one(parse(msg)))
        assert code == "invalid_fields" and "data is empty" in reason


@pytest.mark.parametrize(("body", "fmt", "named"), [
    ({"service": "CapNhatTienDoHoSoMC", "data": [{}]}, FORMAT_DVCQG_SYNC, "DvcqgSync"),
    ({"service": "DongBoHoSoMC", "data": [{}]}, FORMAT_DVCQG_PROGRESS, "DvcqgProgress"),
    ({"service": "LayDanhSachHoSo", "data": [{}]}, FORMAT_DVCQG_SYNC, "DvcqgSync"),
    ({"data": [{}]}, FORMAT_DVCQG_SYNC, "DvcqgSync"),
])
def test_wrong_service_is_rejected_whole(body: dict[str, Any], fmt: str, named: str) -> None:
    item = one(parse(message(body, fmt)))
    code, reason = rejection(item)
    assert code == "invalid_fields"
    assert reason.startswith(f"not a {named} call body: service: ")
    assert item.index is None and json.loads(item.raw) == body


def test_data_that_is_not_a_list_is_rejected_whole() -> None:
    _, reason = rejection(one(parse(message({"service": "DongBoHoSoMC", "data": {}},
                                            FORMAT_DVCQG_SYNC))))
    assert "data: " in reason


# -- DVCQG CapNhatTienDoHoSoMC ----------------------------------------------------------------

def step(status: int | str, when: str, code: str = CODE, **extra: Any) -> dict[str, Any]:
    return {"MaHoSo": code, "NguoiXuLy": "Lê Văn C", "ChucDanh": "Chuyên viên",
            "ThoiDiemXuLy": when, "PhongBanXuLy": "Phòng Hành chính tư pháp",
            "NoiDungXuLy": "Thẩm định hồ sơ", "TrangThai": str(status), **extra}


def progress(*steps: dict[str, Any]) -> InboundMessage:
    return message({"service": "CapNhatTienDoHoSoMC", "data": list(steps)},
                   FORMAT_DVCQG_PROGRESS)


def test_progress_steps_become_bare_reports() -> None:
    items = parse(progress(step(4, "20261005090000"), step(5, "20261006100000"),
                           step(4, "20261008140000", code="H99.01-261005-0002")))
    reports = [report_of(i) for i in items]
    assert [(r.dossier_code, r.status, r.status_at) for r in reports] == [
        (CODE, 4, vn(5, 9)), (CODE, 5, vn(6, 10)), ("H99.01-261005-0002", 4, vn(8, 14))]
    for r in reports:
        # A step says nothing about the unit, the procedure or the facts, and names people
        # who are civil servants, not applicants: nothing of it is kept.
        assert (r.unit_code, r.procedure_code, r.supplements) == (None, None, None)
        assert r.facts == {} and r.personal == {}
    assert [i.index for i in items] == [0, 1, 2]


@pytest.mark.parametrize(("bad", "field", "code"), [
    (step(11, "20261005090000"), "TrangThai", "unknown_status"),
    (step(4, ""), "ThoiDiemXuLy", "invalid_fields"),
    (step(4, "2026-10-05"), "ThoiDiemXuLy", "invalid_fields"),
    (step(4, "20261005090000", code=""), "MaHoSo", "invalid_fields"),
])
def test_a_bad_progress_step_is_rejected_alone(bad: dict[str, Any], field: str,
                                               code: str) -> None:
    items = parse(progress(step(4, "20261005090000"), bad))
    assert report_of(items[0]).status == 4
    got_code, reason = rejection(items[1])
    assert got_code == code and reason.startswith(f"{field}: ")
    assert items[1].index == 1 and json.loads(items[1].raw) == bad
