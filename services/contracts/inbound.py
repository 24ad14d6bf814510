"""Inbound formats accepted on `parpulse.inbound` (and by the gateway's ingest endpoints).

Three formats, named by the AMQP `type` property (or the `parpulse-format` header):

- `parpulse.dossier.v1`: one status report about one dossier, ISO 8601 times with offsets;
- `dvcqg.DongBoHoSoMC`: the DVCQG dossier sync call body, many dossiers per message;
- `dvcqg.CapNhatTienDoHoSoMC`: the DVCQG progress call body, many steps per message.

No official DVCQG schema is published: unknown fields are accepted and kept in the raw payload;
fields we rely on are validated with a reason a person can read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from .dossiers import Channel, Status

FORMAT_NATIVE = "parpulse.dossier.v1"
FORMAT_DVCQG_SYNC = "dvcqg.DongBoHoSoMC"
FORMAT_DVCQG_PROGRESS = "dvcqg.CapNhatTienDoHoSoMC"
FORMATS = (FORMAT_NATIVE, FORMAT_DVCQG_SYNC, FORMAT_DVCQG_PROGRESS)

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def parse_dvcqg_time(value: Any) -> datetime | None:
    """`yyyyMMddHHmmss` in Vietnam local time; empty means not given."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
    text = str(value).strip()
    if len(text) != 14 or not text.isdigit():
        raise ValueError(f"expected a yyyyMMddHHmmss time, got {text!r}")
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=VN_TZ)


def parse_flag(value: Any) -> bool | None:
    """DVCQG sends flags as 0/1, "0"/"1", true/false or "True"/"False"; 2 for
    DuocThanhToanTrucTuyen means paid on the provincial portal, still online."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "2", "true"}:
        return True
    if text in {"0", "false"}:
        return False
    raise ValueError(f"expected a 0/1 or true/false flag, got {value!r}")


DvcqgTime = Annotated[datetime | None, BeforeValidator(parse_dvcqg_time)]
DvcqgFlag = Annotated[bool | None, BeforeValidator(parse_flag)]


class NativeDossierEvent(BaseModel):
    """`parpulse.dossier.v1`: what happened to one dossier, and when."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    dossier_code: str = Field(min_length=1, max_length=64)
    status: Status
    status_at: AwareDatetime
    unit_code: str | None = Field(default=None, max_length=64)
    procedure_code: str | None = Field(default=None, max_length=64)
    channel: Channel | None = None
    applicant_type: int | None = Field(default=None, ge=1, le=4)
    submitted_at: AwareDatetime | None = None
    accepted_at: AwareDatetime | None = None
    source_due_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    returned_at: AwareDatetime | None = None
    apology_new_due_at: AwareDatetime | None = None
    synced_national: bool | None = None
    paid_online: bool | None = None
    digitised: bool | None = None
    data_reused: bool | None = None
    from_national_store: bool | None = None
    vneid_verified: bool | None = None
    e_result: bool | None = None
    # Personal data: stored by the dossiers service only, never re-emitted.
    holder_name: str | None = None
    holder_id_number: str | None = None
    email: str | None = None
    phone: str | None = None


class DvcqgModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class DvcqgDocument(DvcqgModel):
    DuocSoHoa: DvcqgFlag = None
    DuocTaiSuDung: DvcqgFlag = None
    DuocLayTuKhoDMQG: DvcqgFlag = None


class DvcqgSupplement(DvcqgModel):
    NgayBoSung: DvcqgTime = None
    NgayTiepNhanBoSung: DvcqgTime = None
    NgayHenTraTruoc: DvcqgTime = None
    NgayHenTraMoi: DvcqgTime = None


class DvcqgDossier(DvcqgModel):
    """One element of `DongBoHoSoMC.data`."""

    MaHoSo: str = Field(min_length=1, max_length=64)
    MaTTHC: str = Field(min_length=1, max_length=64)
    TenTTHC: str | None = None
    MaLinhVuc: str | None = None
    KenhThucHien: Channel | None = None
    LoaiDoiTuong: int | None = Field(default=None, ge=1, le=4)
    ChuHoSo: str | None = None
    SoGiayToChuHoSo: str | None = None
    Email: str | None = None
    SoDienThoai: str | None = None
    NgayNopHoSo: DvcqgTime = None
    NgayTiepNhan: DvcqgTime = None
    NgayHenTra: DvcqgTime = None
    TrangThaiHoSo: Status
    NgayKetThucXuLy: DvcqgTime = None
    NgayTra: DvcqgTime = None
    DonViXuLy: str = Field(min_length=1, max_length=64)
    NoiNopHoSo: str | None = None
    HoSoCoThanhPhanSoHoa: DvcqgFlag = None
    TaiKhoanDuocXacThucVoiVNeID: DvcqgFlag = None
    DuocThanhToanTrucTuyen: DvcqgFlag = None
    TaiLieuNop: list[DvcqgDocument] = Field(default_factory=list)
    DanhSachHoSoBoSung: list[DvcqgSupplement] = Field(default_factory=list)
    DanhSachGiayToKetQua: list[dict[str, Any]] = Field(default_factory=list)
    DanhSachLePhi: list[dict[str, Any]] = Field(default_factory=list)


class DvcqgSync(DvcqgModel):
    service: Literal["DongBoHoSoMC"]
    isUpdating: str | bool | None = None
    data: list[dict[str, Any]]


class DvcqgProgressStep(DvcqgModel):
    MaHoSo: str = Field(min_length=1, max_length=64)
    NguoiXuLy: str | None = None
    ChucDanh: str | None = None
    ThoiDiemXuLy: Annotated[datetime, BeforeValidator(parse_dvcqg_time)]
    PhongBanXuLy: str | None = None
    NoiDungXuLy: str | None = None
    TrangThai: Status
    NgayBatDau: DvcqgTime = None
    NgayKetThucTheoQuyDinh: DvcqgTime = None


class DvcqgProgress(DvcqgModel):
    service: Literal["CapNhatTienDoHoSoMC"]
    data: list[dict[str, Any]]
