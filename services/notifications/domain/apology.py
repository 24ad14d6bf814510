"""The apology letter with a new return date (Mẫu 04, "Phiếu xin lỗi và hẹn lại ngày trả kết
quả"), drafted for the handling officer of every late dossier.

The draft names no one: the applicant is a placeholder the officer fills in when issuing the
letter in the one-stop system, which is the only place that holds the applicant's details.
The new date only promises the applicant a date; the dossier stays late against the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .calendar import CalendarLike
from .facts import DossierFacts
from .masking import scrub
from .render import format_vn_date, format_vn_datetime

ADDRESSEE_PLACEHOLDER = "[Ông/Bà/Tổ chức — cán bộ một cửa điền khi phát hành phiếu]"
NUMBER_PLACEHOLDER = "Số: ....../PXL"
DEFAULT_EXTRA_WORKING_DAYS = 3


@dataclass(frozen=True)
class ApologyDraft:
    new_due_at: datetime
    subject: str
    body_text: str
    dossier_code: str = ""
    old_due_at: datetime | None = None


def late_reason(facts: DossierFacts) -> str:
    if facts.supplement_count > 1:
        return (f"Hồ sơ phải bổ sung {facts.supplement_count} lần nên không giải quyết được "
                "trong thời hạn quy định.")
    return "Hồ sơ chưa được giải quyết xong trong thời hạn quy định."


def draft_apology(facts: DossierFacts, calendar: CalendarLike, now: datetime,
                  extra_working_days: int = DEFAULT_EXTRA_WORKING_DAYS,
                  unit_name: str = "", procedure_name: str = "",
                  *, reason: str | None = None) -> ApologyDraft:
    """The Mẫu 04 draft; the new return date is `extra_working_days` working days from now."""
    if extra_working_days <= 0:
        raise ValueError("extra_working_days must be positive")
    tz = calendar.hours.tz
    new_due = calendar.add_working_days(now, extra_working_days)
    agency = unit_name or facts.unit_code
    procedure = procedure_name or "(tên thủ tục)"
    if facts.procedure_code:
        procedure += f" (mã thủ tục {facts.procedure_code})"
    old = format_vn_datetime(facts.due_at, tz)
    new = format_vn_datetime(new_due, tz)
    why = scrub(reason or late_reason(facts))
    accepted = f", tiếp nhận lúc {format_vn_datetime(facts.accepted_at, tz)}" if (
        facts.accepted_at) else ""
    body = "\n".join([
        agency.upper(),
        NUMBER_PLACEHOLDER,
        "",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        f"......, {format_vn_date(now, tz)}",
        "",
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "",
        f"Kính gửi: {ADDRESSEE_PLACEHOLDER}",
        "",
        f"{agency} tiếp nhận hồ sơ mã số {facts.dossier_code} đề nghị giải quyết thủ tục "
        f"hành chính: {procedure}{accepted}, hẹn trả kết quả lúc {old}.",
        "",
        f"Đến nay, hồ sơ chưa được giải quyết đúng hạn. Lý do chậm: {why}",
        "",
        f"Ngày hẹn trả kết quả cũ: {old}.",
        f"Ngày hẹn trả kết quả mới: {new}.",
        "",
        f"Sự chậm trễ này đã gây phiền hà cho Ông/Bà/Tổ chức. {agency} thành thật xin lỗi "
        f"Ông/Bà/Tổ chức và hẹn trả kết quả vào {new}.",
        "",
        "Mong nhận được sự thông cảm của Ông/Bà/Tổ chức.",
        "",
        "THỦ TRƯỞNG CƠ QUAN",
        "(Ký, ghi rõ họ tên và đóng dấu)",
        "",
        "---",
        "Dự thảo do ParPulse lập, không chứa thông tin cá nhân. Cán bộ điền người nhận và số "
        "phiếu, kiểm tra lý do chậm khi phát hành phiếu trên hệ thống một cửa.",
    ])
    subject = (f"[ParPulse] Dự thảo Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04): "
               f"{facts.dossier_code}")
    return ApologyDraft(new_due, subject, body, facts.dossier_code, facts.due_at)
