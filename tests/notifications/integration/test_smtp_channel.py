"""Email through a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, what never does."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from email.policy import default
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from services.notifications.adapters.email import SmtpConfig, SmtpSender
from services.notifications.domain import alerts as al
from services.notifications.domain.alerts import decide_alerts
from services.notifications.domain.apology import draft_apology
from services.notifications.domain.facts import DossierFacts
from services.notifications.domain.masking import assert_no_personal_data
from services.notifications.domain.render import render_digest_email, render_email

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 10, 8, 9, 0, tzinfo=VN)
FACTS = DossierFacts("H99.01", "H99.01-251001-0007", "1.001234", 4,
                     due_at=datetime(2025, 10, 7, 17, tzinfo=VN), supplement_count=2)


class Inbox:
    """An aiosmtpd handler that keeps every message, or answers DATA with a set reply."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def sender(port: int, sleeps: list[float], **kw: Any) -> SmtpSender:
    cfg = SmtpConfig(host="127.0.0.1", port=port, sender="parpulse@tinhmau.example",
                     timeout_s=5, **kw)
    return SmtpSender(cfg, sleep=sleeps.append)


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def assert_clean(raw: bytes, msg: EmailMessage, personal: dict[str, str]) -> None:
    body = msg.get_content()
    assert_no_personal_data(str(msg["Subject"]) + "\n" + body, personal.values())
    # Headers carry officers' work addresses, so the raw message is checked for the known values.
    text = raw.decode("utf-8", "replace").casefold()
    assert not [v for v in personal.values() if v.casefold() in text]


def test_alert_email_arrives_in_vietnamese_without_personal_data(
        smtp: tuple[Inbox, int], personal: dict[str, str]) -> None:
    inbox, port = smtp
    alerts = decide_alerts(al.OVERDUE, FACTS, NOW)
    sleeps: list[float] = []
    for alert in alerts:
        content = render_email(alert, unit_name="Sở Tư pháp")
        result = sender(port, sleeps).send(["mot-cua.h99-01@tinhmau.example"], content.subject,
                                           content.body, personal_values=personal.values())
        assert result.ok and result.attempts == 1 and not result.dead_lettered
    assert len(inbox.messages) == len(alerts) == 2 and sleeps == []
    rcpts, raw = inbox.messages[0]
    msg = parse(raw)
    assert rcpts == ["mot-cua.h99-01@tinhmau.example"]
    assert msg["Subject"] == "[ParPulse] Hồ sơ quá hạn: H99.01-251001-0007"
    assert "đã quá hạn trả kết quả" in msg.get_content()
    assert msg["Auto-Submitted"] == "auto-generated"
    for _, raw in inbox.messages:
        assert_clean(raw, parse(raw), personal)


def test_apology_draft_and_digest_arrive_clean(smtp: tuple[Inbox, int], fake_calendar: Any,
                                               personal: dict[str, str]) -> None:
    inbox, port = smtp
    draft = draft_apology(FACTS, fake_calendar, NOW, 3, "Sở Tư pháp", "Đăng ký khai sinh")
    digest = render_digest_email("H99.01", "Sở Tư pháp", decide_alerts(al.OVERDUE, FACTS, NOW),
                                 datetime(2025, 10, 8, 16, 30, tzinfo=VN))
    s = sender(port, [])
    assert s.send(["a@tinhmau.example"], draft.subject, draft.body_text).ok
    assert s.send(["b@tinhmau.example"], digest.subject, digest.body).ok
    (_, raw_draft), (_, raw_digest) = inbox.messages
    letter = parse(raw_draft)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in letter.get_content()
    assert "Tổng hợp cảnh báo" in str(parse(raw_digest)["Subject"])
    for raw in (raw_draft, raw_digest):
        assert_clean(raw, parse(raw), personal)


def test_personal_data_is_blocked_before_it_reaches_the_server(
        smtp: tuple[Inbox, int], personal: dict[str, str]) -> None:
    inbox, port = smtp
    s = sender(port, [])
    for body in (f"Người nộp {personal['name']}", f"gọi {personal['phone']}"):
        result = s.send(["a@tinhmau.example"], "chú ý", body, personal_values=personal.values())
        assert not result.ok and result.blocked and result.attempts == 0
        assert all(v not in (result.error or "") for v in personal.values())
    assert inbox.messages == []


def test_a_permanent_refusal_is_not_retried(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    inbox.reply = "554 Transaction failed"
    sleeps: list[float] = []
    result = sender(port, sleeps, attempts=3).send(["a@tinhmau.example"], "s", "b")
    assert not result.ok and result.dead_lettered and result.attempts == 1
    assert result.status == 554 and sleeps == []


def test_a_temporary_refusal_is_retried_with_backoff_then_dead_lettered(
        smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    inbox.reply = "451 Try again later"
    sleeps: list[float] = []
    result = sender(port, sleeps, attempts=3, base_delay_s=2).send(["a@tinhmau.example"], "s", "b")
    assert not result.ok and result.dead_lettered and result.attempts == 3
    assert sleeps == [2, 4] and len(result.attempt_errors) == 3


def test_no_server_is_reported_not_raised() -> None:
    sleeps: list[float] = []
    result = sender(free_port(), sleeps, attempts=2).send(["a@tinhmau.example"], "s", "b")
    assert not result.ok and result.dead_lettered and result.attempts == 2 and sleeps == [1]
    assert result.error and "Error" in result.error
