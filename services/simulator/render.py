"""One lifecycle step in the format a provincial system would send it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.contracts.dossiers import Status
from services.contracts.inbound import (
    FORMAT_DVCQG_PROGRESS,
    FORMAT_DVCQG_SYNC,
    FORMAT_NATIVE,
    VN_TZ,
)

from .model import DossierState, Emission

# A DVCQG system syncs the whole dossier at these milestones and reports the rest as progress.
SYNC_STATUSES = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.DECIDED, Status.RETURNED})

STEP_TEXT = {
    Status.REFUSED: "Từ chối tiếp nhận hồ sơ",
    Status.IN_PROCESSING: "Thụ lý, xử lý hồ sơ",
    Status.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung hồ sơ",
    Status.AWAITING_PAYMENT: "Chờ thực hiện nghĩa vụ tài chính",
    Status.WITHDRAWN: "Công dân rút hồ sơ",
}


def native(state: DossierState) -> Emission:
    def iso(t: datetime | None) -> str | None:
        return t.isoformat() if t else None

    payload: dict[str, Any] = {
        "dossier_code": state.code,
        "status": int(state.status),
        "status_at": iso(state.at),
        "unit_code": state.unit.code,
        "procedure_code": state.procedure.code,
        "channel": int(state.channel),
        "applicant_type": state.applicant_type,
        "submitted_at": iso(state.submitted_at),
        "accepted_at": iso(state.accepted_at),
        "source_due_at": iso(state.due_at),
        "completed_at": iso(state.completed_at),
        "returned_at": iso(state.returned_at),
        **state.flags,
        **state.personal,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return _emission(state, FORMAT_NATIVE, payload)


def dvcqg(state: DossierState) -> Emission:
    if state.status in SYNC_STATUSES:
        return _emission(state, FORMAT_DVCQG_SYNC, sync_element(state),
                         updating=state.status != Status.SUBMITTED)
    return _emission(state, FORMAT_DVCQG_PROGRESS, progress_step(state))


def dvcqg_time(t: datetime | None) -> str | None:
    return t.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S") if t else None


def sync_element(s: DossierState) -> dict[str, Any]:
    flags, person = s.flags, s.personal
    decided = s.status in (Status.DECIDED, Status.RETURNED)
    paid = (2 if s.paid_on_provincial_portal else 1) if flags.get("paid_online") else 0
    element: dict[str, Any] = {
        "MaHoSo": s.code,
        "MaTTHC": s.procedure.code,
        "TenTTHC": s.procedure.name,
        "MaLinhVuc": s.procedure.field_code,
        "KenhThucHien": int(s.channel),
        "LoaiDoiTuong": s.applicant_type,
        "ChuHoSo": person.get("holder_name"),
        "SoGiayToChuHoSo": person.get("holder_id_number"),
        "Email": person.get("email"),
        "SoDienThoai": person.get("phone"),
        "NgayNopHoSo": dvcqg_time(s.submitted_at),
        "NgayTiepNhan": dvcqg_time(s.accepted_at),
        "NgayHenTra": dvcqg_time(s.due_at),
        "TrangThaiHoSo": int(s.status),
        "NgayKetThucXuLy": dvcqg_time(s.completed_at),
        "NgayTra": dvcqg_time(s.returned_at),
        "DonViXuLy": s.unit.code,
        "HoSoCoThanhPhanSoHoa": int(flags.get("digitised", False)),
        "TaiKhoanDuocXacThucVoiVNeID": int(flags.get("vneid_verified", False)),
        "DuocThanhToanTrucTuyen": paid,
        "TaiLieuNop": [{
            "TenTepDinhKem": "To-khai-mau.pdf",
            "DuocSoHoa": int(flags.get("digitised", False)),
            "DuocTaiSuDung": int(flags.get("data_reused", False)),
            "DuocLayTuKhoDMQG": int(flags.get("from_national_store", False)),
        }],
        "DanhSachHoSoBoSung": [
            {
                "NgayBoSung": dvcqg_time(sup.requested_at),
                "NgayTiepNhanBoSung": dvcqg_time(sup.received_at),
                "NgayHenTraTruoc": dvcqg_time(sup.due_before),
                "NgayHenTraMoi": dvcqg_time(sup.due_after),
            }
            for sup in s.supplements
        ],
        "DanhSachGiayToKetQua": (
            [{"TenGiayTo": "Kết quả giải quyết (bản điện tử)", "MaGiayTo": f"KQ-{s.code}"}]
            if decided and flags.get("e_result") else []
        ),
        "DanhSachLePhi": (
            [{"TenPhiLePhi": "Lệ phí giải quyết thủ tục", "MucPhi": 50000}]
            if s.procedure.fee_bearing else []
        ),
    }
    return {k: v for k, v in element.items() if v is not None}


def progress_step(s: DossierState) -> dict[str, Any]:
    step: dict[str, Any] = {
        "MaHoSo": s.code,
        "NguoiXuLy": f"Cán bộ Mẫu {sum(map(ord, s.code)) % 1000:03d}",
        "ChucDanh": "Chuyên viên",
        "ThoiDiemXuLy": dvcqg_time(s.at),
        "PhongBanXuLy": s.unit.name,
        "NoiDungXuLy": STEP_TEXT.get(s.status, "Xử lý hồ sơ"),
        "TrangThai": int(s.status),
        "NgayBatDau": dvcqg_time(s.accepted_at or s.submitted_at),
        "NgayKetThucTheoQuyDinh": dvcqg_time(s.due_at),
    }
    return {k: v for k, v in step.items() if v is not None}


def _emission(
    state: DossierState, fmt: str, payload: dict[str, Any], updating: bool = True
) -> Emission:
    return Emission(state.at, state.code, state.unit.code, state.status, fmt, payload, updating)
