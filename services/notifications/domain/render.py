"""What an alert says: email subject and body, and the webhook JSON payload.

Text is Vietnamese; JSON field names are English. Only alert fields go out, and alerts carry no
personal data; the channel adapters still run the personal-data guard on everything they send.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from .alerts import Alert, AlertKind

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SCHEMA = "parpulse.notification.v1"
PURPOSES = ("alert", "escalation", "reminder")

TITLES = {
    AlertKind.DUE_SOON: "Hồ sơ sắp đến hạn",
    AlertKind.OVERDUE: "Hồ sơ quá hạn",
    AlertKind.COMPLETED_LATE: "Hồ sơ hoàn thành trễ hạn",
    AlertKind.MULTIPLE_SUPPLEMENTS: "Hồ sơ yêu cầu bổ sung nhiều lần",
    AlertKind.QUARANTINED_INPUT: "Dữ liệu đầu vào bị cách ly",
    AlertKind.DEAD_LETTERED: "Thông điệp bị chuyển vào hàng đợi lỗi",
}
_PREFIX = {"alert": "", "escalation": "[Chuyển cấp] ", "reminder": "[Nhắc lại] "}
_PURPOSE_NOTE = {
    "alert": "",
    "escalation": "Cảnh báo được chuyển lên lãnh đạo đơn vị: hồ sơ quá hạn chưa có Phiếu xin lỗi "
                  "và hẹn lại ngày trả kết quả.",
    "reminder": "Nhắc lại: chưa phát hành Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) "
                "cho hồ sơ này.",
}
FOOTER = ("Thư tự động từ ParPulse. Nội dung không chứa thông tin cá nhân của người nộp hồ sơ; "
          "tra cứu chi tiết trên hệ thống một cửa.")


@dataclass(frozen=True)
class EmailContent:
    subject: str
    body: str


def format_vn_datetime(value: datetime | str | None, tz: tzinfo = VN_TZ) -> str:
    """`17 giờ 00, ngày 10/10/2025` in local time."""
    if value is None:
        return "(không rõ)"
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = dt.astimezone(tz)
    return f"{local.hour} giờ {local.minute:02d}, ngày {local:%d/%m/%Y}"


def format_vn_date(value: datetime, tz: tzinfo = VN_TZ) -> str:
    """`ngày 10 tháng 10 năm 2025` in local time."""
    local = value.astimezone(tz)
    return f"ngày {local.day:02d} tháng {local.month:02d} năm {local.year}"


def message_text(alert: Alert, tz: tzinfo = VN_TZ) -> str:
    d = alert.details
    code, proc = alert.dossier_code, d.get("procedure_code") or "(không rõ)"
    due = format_vn_datetime(_text(d.get("due_at")), tz)
    kind = alert.kind
    if kind is AlertKind.DUE_SOON:
        left = int(d.get("remaining_working_minutes") or 0)
        return (f"Hồ sơ {code} (thủ tục {proc}) sắp đến hạn trả kết quả lúc {due}. "
                f"Thời gian làm việc còn lại: {left // 60} giờ {left % 60:02d} phút.")
    if kind is AlertKind.OVERDUE:
        done = "Đã phát hành phiếu xin lỗi." if alert.apology_issued_at else (
            "Cần lập Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04).")
        return f"Hồ sơ {code} (thủ tục {proc}) đã quá hạn trả kết quả ({due}). {done}"
    if kind is AlertKind.COMPLETED_LATE:
        done = format_vn_datetime(_text(d.get("completed_at")), tz)
        return f"Hồ sơ {code} (thủ tục {proc}) hoàn thành lúc {done}, trễ so với hạn {due}."
    if kind is AlertKind.MULTIPLE_SUPPLEMENTS:
        return (f"Hồ sơ {code} (thủ tục {proc}) đã yêu cầu bổ sung {d.get('supplement_count')} "
                "lần; yêu cầu bổ sung quá một lần làm hồ sơ bị tính là trễ hạn.")
    if kind is AlertKind.QUARANTINED_INPUT:
        return (f"Dữ liệu đầu vào định dạng {d.get('source_format')} bị cách ly "
                f"(mã cách ly {d.get('quarantine_id')}). Lý do: {d.get('reason')}. "
                "Vui lòng sửa và gửi lại.")
    return (f"Thông điệp {d.get('message_id')} trên hàng đợi {d.get('queue')} bị chuyển vào "
            f"hàng đợi lỗi sau {d.get('delivery_count') or '?'} lần xử lý không thành công. "
            f"Lý do: {d.get('reason') or '(không rõ)'}. Kiểm tra rồi phát lại từ DLQ.")


def render_email(alert: Alert, *, purpose: str = "alert", unit_name: str | None = None,
                 tz: tzinfo = VN_TZ) -> EmailContent:
    where = alert.dossier_code or unit_name or alert.unit_code
    subject = f"[ParPulse] {_PREFIX[purpose]}{TITLES[alert.kind]}: {where}"
    lines = [_PURPOSE_NOTE[purpose], message_text(alert, tz), "",
             f"Đơn vị: {unit_name or alert.unit_code} ({alert.unit_code})",
             f"Thời điểm cảnh báo: {format_vn_datetime(alert.raised_at, tz)}",
             f"Mã cảnh báo: {alert.key}", "", FOOTER]
    return EmailContent(subject, "\n".join(lines).strip())


def render_webhook(alert: Alert, *, purpose: str = "alert", unit_name: str | None = None,
                   tz: tzinfo = VN_TZ) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "purpose": purpose,
        "title": f"{_PREFIX[purpose]}{TITLES[alert.kind]}",
        "message": " ".join(t for t in (_PURPOSE_NOTE[purpose], message_text(alert, tz)) if t),
        "alert": {
            "key": alert.key, "kind": alert.kind.value, "state": alert.state.value,
            "unit_code": alert.unit_code, "unit_name": unit_name,
            "dossier_code": alert.dossier_code, "raised_at": alert.raised_at.isoformat(),
            "acknowledged_at": _iso(alert.acknowledged_at),
            "resolved_at": _iso(alert.resolved_at),
            "apology_issued_at": _iso(alert.apology_issued_at),
            "details": dict(alert.details),
        },
    }


def render_digest_email(unit_code: str, unit_name: str, alerts: Sequence[Alert],
                        slot: datetime, tz: tzinfo = VN_TZ) -> EmailContent:
    counts = Counter(a.kind for a in alerts)
    subject = f"[ParPulse] Tổng hợp cảnh báo {format_vn_date(slot, tz)}: {unit_name}"
    lines = [f"Đơn vị: {unit_name} ({unit_code}). Cảnh báo đang mở: {len(alerts)}.", ""]
    lines += [f"- {TITLES[k]}: {n}" for k, n in sorted(counts.items())]
    lines += [""] + [f"* {a.dossier_code or '-'}: {TITLES[a.kind]} ({a.state.value})"
                     for a in alerts] + ["", FOOTER]
    return EmailContent(subject, "\n".join(lines))


def render_digest_webhook(unit_code: str, unit_name: str, alerts: Sequence[Alert],
                          slot: datetime) -> dict[str, Any]:
    counts = Counter(a.kind.value for a in alerts)
    return {
        "schema": SCHEMA, "purpose": "digest", "title": "Tổng hợp cảnh báo trong ngày",
        "unit_code": unit_code, "unit_name": unit_name,
        "slot": slot.isoformat(), "counts": dict(sorted(counts.items())),
        "alerts": [{"key": a.key, "kind": a.kind.value, "state": a.state.value,
                    "dossier_code": a.dossier_code, "raised_at": a.raised_at.isoformat()}
                   for a in alerts],
    }


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
