"""The apology letter draft (Mẫu 04): the form's parts, the new date by the working calendar,
and no personal data. October 2025: Mon 6 .. Fri 10, Sat 11, Sun 12, Mon 13."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain.apology import ADDRESSEE_PLACEHOLDER, draft_apology
from services.notifications.domain.calendar import CalendarLike
from services.notifications.domain.facts import DossierFacts
from services.notifications.domain.masking import assert_no_personal_data

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FACTS = DossierFacts(unit_code="H99.01", dossier_code="H99.01-251001-0007",
                     procedure_code="1.001234", status=4,
                     accepted_at=datetime(2025, 10, 1, 8, 15, tzinfo=VN),
                     due_at=datetime(2025, 10, 8, 17, 0, tzinfo=VN))
NOW = datetime(2025, 10, 8, 10, 0, tzinfo=VN)  # Wednesday



def test_new_date_is_n_working_days_from_now(calendar: CalendarLike) -> None:
    d = draft_apology(FACTS, calendar, NOW, 3, "Sở Tư pháp", "Đăng ký khai sinh")
    assert d.new_due_at == calendar.add_working_days(NOW, 3)
    assert d.new_due_at == datetime(2025, 10, 13, 10, 0, tzinfo=VN)  # over the weekend
    assert d.old_due_at == FACTS.due_at and d.dossier_code == FACTS.dossier_code


def test_drafted_outside_working_time_counts_from_the_next_working_instant(
        calendar: CalendarLike) -> None:
    saturday = datetime(2025, 10, 11, 10, 0, tzinfo=VN)
    d = draft_apology(FACTS, calendar, saturday, 3, "Sở Tư pháp", "Đăng ký khai sinh")
    # Monday 07:00 plus three whole working days ends at Wednesday's close, as a receipt prints.
    assert d.new_due_at == datetime(2025, 10, 15, 17, 0, tzinfo=VN)


def test_the_draft_has_every_part_of_the_form(calendar: CalendarLike) -> None:
    d = draft_apology(FACTS, calendar, NOW, 3, "Sở Tư pháp", "Đăng ký khai sinh")
    body = d.body_text
    for part in ["SỞ TƯ PHÁP", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", f"Kính gửi: {ADDRESSEE_PLACEHOLDER}",
                 "mã số H99.01-251001-0007", "Đăng ký khai sinh (mã thủ tục 1.001234)",
                 "tiếp nhận lúc 8 giờ 15, ngày 01/10/2025", "Lý do chậm:",
                 "Ngày hẹn trả kết quả cũ: 17 giờ 00, ngày 08/10/2025.",
                 "Ngày hẹn trả kết quả mới: 10 giờ 00, ngày 13/10/2025.",
                 "thành thật xin lỗi", "ngày 08 tháng 10 năm 2025", "THỦ TRƯỞNG CƠ QUAN"]:
        assert part in body, part
    assert "Mẫu 04" in d.subject and "H99.01-251001-0007" in d.subject
    # The parts come in the form's order.
    order = ["PHIẾU XIN LỖI", "Kính gửi", "Lý do chậm", "cũ:", "mới:", "xin lỗi Ông"]
    positions = [body.index(p) for p in order]
    assert positions == sorted(positions)


def test_the_reason_says_why_when_supplements_made_it_late(calendar: CalendarLike) -> None:
    facts = DossierFacts(**{**FACTS.__dict__, "supplement_count": 3})
    d = draft_apology(facts, calendar, NOW, 3, "Sở Tư pháp", "Đăng ký khai sinh")
    assert "bổ sung 3 lần" in d.body_text


def test_no_personal_data_even_when_the_reason_quotes_some(calendar: CalendarLike,
                                                           personal: dict[str, str]) -> None:
    reason = (f"chờ người nộp liên hệ qua số {personal['phone']} hoặc {personal['email']}, "
              f"CCCD {personal['id_number']}")
    d = draft_apology(FACTS, calendar, NOW, 3, "Sở Tư pháp", "Đăng ký khai sinh", reason=reason)
    assert_no_personal_data(d.subject + "\n" + d.body_text, personal.values())
    assert "chờ người nộp liên hệ" in d.body_text


def test_extra_days_must_be_positive(calendar: CalendarLike) -> None:
    with pytest.raises(ValueError):
        draft_apology(FACTS, calendar, NOW, 0, "Sở Tư pháp", "Đăng ký khai sinh")


def test_the_real_calendar_satisfies_the_protocol() -> None:
    from services.common.workcalendar import WorkingCalendar

    # mypy checks this assignment: the domain's protocol matches the shared calendar.
    real: CalendarLike = WorkingCalendar(set(), set(), first_year=2025, last_year=2025)
    d = draft_apology(FACTS, real, NOW, 1, "Sở Tư pháp", "Đăng ký khai sinh")
    assert d.new_due_at == datetime(2025, 10, 9, 10, 0, tzinfo=VN)
