"""From an inbound message (three formats) to domain reports, or to reasons for quarantine."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from pydantic import BaseModel, ValidationError

from services.common.entrypoints import InboundMessage
from services.contracts.inbound import (
    FORMAT_DVCQG_PROGRESS,
    FORMAT_DVCQG_SYNC,
    FORMAT_NATIVE,
    VN_TZ,
    DvcqgDossier,
    DvcqgProgress,
    DvcqgProgressStep,
    DvcqgSync,
    NativeDossierEvent,
)

from ..domain.dossier import FACT_FIELDS, PERSONAL_FIELDS, Rejected, Report
from ..domain.sla import Pause

# The end of the standard working day (DOMAIN.md: 07:00-11:30, 13:30-17:00).
END_OF_WORKING_DAY = time(17, 0)


@dataclass(frozen=True)
class Item:
    """One dossier statement of a message: a report, or why it cannot be one."""

    index: int | None
    raw: bytes
    report: Report | None = None
    rejected: Rejected | None = None
    unit_code: str | None = None


def parse(message: InboundMessage) -> list[Item]:
    fmt = message.format
    try:
        body = json.loads(message.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [_whole(message, "malformed_json", f"body is not valid JSON: {exc}")]
    if fmt == FORMAT_NATIVE:
        if _has_nul(body):
            return [Item(None, message.body, rejected=_NUL)]
        return [_native(body, message.body)]
    if fmt == FORMAT_DVCQG_SYNC:
        return _batch(message, body, DvcqgSync, _sync_item)
    if fmt == FORMAT_DVCQG_PROGRESS:
        return _batch(message, body, DvcqgProgress, _progress_item)
    return [_whole(message, "unknown_format",
                   f"unknown message format {fmt!r}: set the AMQP type property or the "
                   f"parpulse-format header to one of {FORMAT_NATIVE}, {FORMAT_DVCQG_SYNC}, "
                   f"{FORMAT_DVCQG_PROGRESS}")]


def explain(exc: ValidationError) -> tuple[str, str]:
    """A bounded reason code and a sentence naming each bad field."""
    parts, code = [], "invalid_fields"
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        if where in {"status", "TrangThaiHoSo", "TrangThai"} and err["type"] == "enum":
            code = "unknown_status"
        got = err.get("input")
        # Never echo personal data into a reason: reasons travel in events.
        personal = {"ChuHoSo", "SoGiayToChuHoSo", "Email", "SoDienThoai", *PERSONAL_FIELDS}
        hidden = isinstance(got, dict | list) or str(err["loc"][-1] if err["loc"] else "") \
            in personal
        shown = "" if hidden else f" (got {got!r})"
        parts.append(f"{where}: {err['msg']}{shown}")
    more = len(exc.errors()) - 5
    return code, "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _whole(message: InboundMessage, code: str, reason: str) -> Item:
    return Item(None, message.body, rejected=Rejected(code, reason))


def _native(body: Any, raw: bytes) -> Item:
    try:
        event = NativeDossierEvent.model_validate(body)
    except ValidationError as exc:
        return Item(None, raw, rejected=Rejected(*explain(exc)), unit_code=_get(body, "unit_code"))
    if not event.unit_code or not event.procedure_code:
        return Item(None, raw, rejected=Rejected(
            "invalid_fields", "unit_code and procedure_code are required on every "
            "parpulse.dossier.v1 event"), unit_code=event.unit_code)
    data = event.model_dump()
    report = Report(
        dossier_code=event.dossier_code,
        status=int(event.status),
        status_at=event.status_at,
        unit_code=event.unit_code,
        procedure_code=event.procedure_code,
        facts={k: _plain(data[k]) for k in FACT_FIELDS if data.get(k) is not None},
        personal={k: data[k] for k in PERSONAL_FIELDS if data.get(k)},
        apology_issued=event.apology_new_due_at is not None,
    )
    return Item(None, raw, report=report, unit_code=event.unit_code)


def _batch(message: InboundMessage, body: Any, envelope: type[BaseModel],
           item: Any) -> list[Item]:
    try:
        parsed = envelope.model_validate(body)
    except ValidationError as exc:
        code, reason = explain(exc)
        return [_whole(message, code, f"not a {envelope.__name__} call body: {reason}")]
    data: list[dict[str, Any]] = parsed.data  # type: ignore[attr-defined]
    if not data:
        return [_whole(message, "invalid_fields", "data is empty: no dossier to apply")]
    return [Item(i, json.dumps(entry, ensure_ascii=False).encode(), rejected=_NUL)
            if _has_nul(entry) else item(i, entry) for i, entry in enumerate(data)]


# PostgreSQL text cannot hold U+0000 (JSON may spell it \u0000): refused here with a reason
# rather than failing the database write and ending in a dead-letter queue.
_NUL = Rejected("invalid_text", "a text field contains the NUL character (\\u0000), which "
                "no dossier field may hold")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _sync_item(index: int, entry: Any) -> Item:
    raw = json.dumps(entry, ensure_ascii=False).encode()
    try:
        d = DvcqgDossier.model_validate(entry)
    except ValidationError as exc:
        return Item(index, raw, rejected=Rejected(*explain(exc)),
                    unit_code=_get(entry, "DonViXuLy"))
    status = int(d.TrangThaiHoSo)
    at = _sync_status_time(d, status)
    if at is None:
        return Item(index, raw, unit_code=d.DonViXuLy, rejected=Rejected(
            "invalid_fields", f"no date for status {status}: send NgayTiepNhan, "
            "NgayKetThucXuLy or NgayTra as the status requires"))
    docs = d.TaiLieuNop
    facts: dict[str, Any] = {
        "channel": int(d.KenhThucHien) if d.KenhThucHien else None,
        "applicant_type": d.LoaiDoiTuong,
        "submitted_at": d.NgayNopHoSo,
        "accepted_at": d.NgayTiepNhan,
        "source_due_at": source_due_at(d.NgayHenTra),
        "completed_at": d.NgayKetThucXuLy,
        "returned_at": d.NgayTra,
        "synced_national": True,
        "paid_online": d.DuocThanhToanTrucTuyen,
        "digitised": _any([d.HoSoCoThanhPhanSoHoa, *[x.DuocSoHoa for x in docs]]),
        "data_reused": _any([x.DuocTaiSuDung for x in docs]),
        "from_national_store": _any([x.DuocLayTuKhoDMQG for x in docs]),
        "vneid_verified": d.TaiKhoanDuocXacThucVoiVNeID,
        "e_result": True if d.DanhSachGiayToKetQua else None,
    }
    supplements = tuple(
        Pause(s.NgayBoSung, s.NgayTiepNhanBoSung)
        for s in d.DanhSachHoSoBoSung if s.NgayBoSung is not None
    )
    personal = {"holder_name": d.ChuHoSo, "holder_id_number": d.SoGiayToChuHoSo,
                "email": d.Email, "phone": d.SoDienThoai}
    report = Report(
        dossier_code=d.MaHoSo, status=status, status_at=at, unit_code=d.DonViXuLy,
        procedure_code=d.MaTTHC, facts={k: v for k, v in facts.items() if v is not None},
        supplements=supplements,
        personal={k: v for k, v in personal.items() if v},
    )
    return Item(index, raw, report=report, unit_code=d.DonViXuLy)


def source_due_at(value: datetime | None) -> datetime | None:
    """NgayHenTra as an instant. Many systems send only the day, as 00:00:00 local time; that
    means "due that day", so it becomes the end of that day's work. The end of the province's
    last working period (from its calendar) would be exact, but the adapter has no calendar:
    17:00, the end of the standard working day, is used. Any other time of day is kept."""
    if value is None:
        return None
    local = value.astimezone(VN_TZ)
    if local.time() != time(0):
        return value
    return datetime.combine(local.date(), END_OF_WORKING_DAY, VN_TZ)


def _sync_status_time(d: DvcqgDossier, status: int) -> datetime | None:
    """A sync states the current status but not when it was entered: take the date the
    status is defined by, else the latest date the record shows."""
    if status == 1:
        return d.NgayNopHoSo
    if status in (2, 3):
        return d.NgayTiepNhan or d.NgayNopHoSo
    if status == 9:
        return d.NgayKetThucXuLy
    if status == 10:
        return d.NgayTra or d.NgayKetThucXuLy
    known = [d.NgayTiepNhan, d.NgayKetThucXuLy]
    for s in d.DanhSachHoSoBoSung:
        known += [s.NgayBoSung] + ([s.NgayTiepNhanBoSung] if status == 4 else [])
    dates = [x for x in known if x is not None]
    return max(dates) if dates else None


def _progress_item(index: int, entry: Any) -> Item:
    raw = json.dumps(entry, ensure_ascii=False).encode()
    try:
        step = DvcqgProgressStep.model_validate(entry)
    except ValidationError as exc:
        return Item(index, raw, rejected=Rejected(*explain(exc)))
    return Item(index, raw, report=Report(
        dossier_code=step.MaHoSo, status=int(step.TrangThai), status_at=step.ThoiDiemXuLy))


def _any(flags: list[bool | None]) -> bool | None:
    known = [f for f in flags if f is not None]
    return any(known) if known else None


def _plain(value: Any) -> Any:
    return int(value) if hasattr(value, "value") and isinstance(value.value, int) else value


def _get(body: Any, key: str) -> str | None:
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None
