"""Personal data never leaves: masks, the scrubber, and the guard every channel runs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifications.adapters.webhook import encode_payload
from services.notifications.domain import alerts as al
from services.notifications.domain.alerts import decide_alerts
from services.notifications.domain.facts import DossierFacts, QuarantineFacts
from services.notifications.domain.masking import (
    PersonalDataError,
    assert_no_personal_data,
    find_personal_data,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    scrub,
)
from services.notifications.domain.render import render_email, render_webhook

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_masks_hide_the_value(personal: dict[str, str]) -> None:
    assert mask_name(personal["name"]) == "N*** T*** M*** K***"
    assert mask_id_number(personal["id_number"]) == "*********345"
    assert mask_phone("0912 345 678") == "*******678"
    assert mask_email(personal["email"]) == "m***@example.com"
    assert mask_email("not an address") == "***" and mask_id_number("12") == "***"


def test_masked_values_pass_the_guard(personal: dict[str, str]) -> None:
    masked = " ".join([mask_name(personal["name"]), mask_id_number(personal["id_number"]),
                       mask_phone(personal["phone"]), mask_email(personal["email"])])
    assert_no_personal_data(masked, personal.values())


@pytest.mark.parametrize("text", [
    "Người nộp: Nguyễn Thị Minh Khai",
    "NGUYỄN THỊ MINH KHAI",
    "nguyen thi minh khai",          # without diacritics it is still her name
    "Nguyễn  Thị\nMinh Khai",
    "gọi 0912 345 678",
    "gọi 0912.345.678",
    "CCCD 001203012345",
    "thư minh.khai.nguyen@EXAMPLE.com",
])
def test_the_guard_finds_each_personal_value(text: str, personal: dict[str, str]) -> None:
    with pytest.raises(PersonalDataError) as err:
        assert_no_personal_data(text, personal.values())
    for value in personal.values():
        assert value not in str(err.value)  # the error names the kind, never the value


def test_json_escaping_does_not_hide_a_name(personal: dict[str, str]) -> None:
    body = encode_payload({"note": personal["name"]}).decode()
    assert personal["name"] in body  # UTF-8, not \\u escapes, so the guard can see it
    assert find_personal_data(body, personal.values()) == ["value#0"]


@pytest.mark.parametrize(("text", "kind"), [
    ("liên hệ 0987654321", "phone"), ("+84987654321", "phone"), ("số 079123456789", "id_number"),
    ("CMND 123456789", "id_number"), ("a.b@c.example", "email"),
])
def test_the_guard_finds_personal_shapes_without_being_told(text: str, kind: str) -> None:
    assert kind in find_personal_data(text)


@pytest.mark.parametrize("text", [
    "H15.50.05.13-261008-0975", "H99.01-251001-0001", "thủ tục 1.001234",
    "2025-10-08T07:00:00+07:00", "17 giờ 00, ngày 08/10/2025",
    "3f1c2a9e-4b7d-4e21-9c3a-123456789012", "quarantine 42", "m***@example.com",
])
def test_the_guard_leaves_codes_times_and_ids_alone(text: str) -> None:
    assert find_personal_data(text) == []


def test_scrub_masks_shapes_and_quoted_personal_input() -> None:
    text = ("data.0.Email: value is not a valid email (got 'x@@y'); "
            "data.0.TrangThaiHoSo: Input should be 1..10 (got 99); gọi 0912345678")
    out = scrub(text)
    assert "x@@y" not in out and "0912345678" not in out
    assert "(got 99)" in out and "data.0.Email: value is not a valid email (got ***)" in out


codes = st.from_regex(r"H99\.[0-9]{2}(\.[0-9]{2})?-[0-9]{6}-[0-9]{4}", fullmatch=True)
times = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31),
                     timezones=st.just(VN))


@settings(max_examples=150, deadline=None)
@given(code=codes, due=times, now=times, supplements=st.integers(0, 5),
       outcome=st.sampled_from(["early", "on_time", "late"]),
       event=st.sampled_from([al.DUE_SOON, al.OVERDUE, al.COMPLETED, al.STATUS_CHANGED]),
       minutes=st.integers(0, 480), procedure=st.from_regex(r"[12]\.[0-9]{6}", fullmatch=True))
def test_every_rendered_alert_passes_the_guard(code: str, due: datetime, now: datetime,
                                               supplements: int, outcome: str, event: str,
                                               minutes: int, procedure: str) -> None:
    facts = DossierFacts("H99.01", code, procedure, 9 if event == al.COMPLETED else 4,
                         due_at=due, completed_at=now, outcome=outcome,
                         supplement_count=supplements, remaining_working_minutes=minutes)
    for alert in decide_alerts(event, facts, now):
        for purpose in ("alert", "escalation", "reminder"):
            mail = render_email(alert, purpose=purpose, unit_name="Sở Tư pháp")
            assert find_personal_data(mail.subject + mail.body) == []
            body = encode_payload(render_webhook(alert, purpose=purpose)).decode()
            assert find_personal_data(body) == []


def test_a_quarantine_reason_cannot_carry_personal_data_out(personal: dict[str, str]) -> None:
    reason = (f"data.0.ChuHoSo: Input should be a valid string (got ['{personal['name']}']); "
              f"data.0.SoDienThoai: too long (got '{personal['phone']}1'); "
              f"ghi chú: {personal['email']}, {personal['id_number']}")
    [alert] = decide_alerts(al.QUARANTINED, QuarantineFacts(9, "dvcqg.DongBoHoSoMC", reason),
                            datetime(2025, 10, 8, 9, tzinfo=VN))
    mail = render_email(alert)
    assert_no_personal_data(mail.subject + mail.body, personal.values())
    assert_no_personal_data(encode_payload(render_webhook(alert)).decode(), personal.values())
