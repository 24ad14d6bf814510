"""The daily digest on the real database and a real SMTP server, time passed in: once per unit
and working day, after its time of day, without personal data."""

from __future__ import annotations

import email
from datetime import datetime
from email.message import EmailMessage
from email.policy import default
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import select

from services.common.calendar_data import load_calendar
from services.common.db import make_engine, session_factory
from services.common.migrate import upgrade
from services.common.reference import load_province
from services.contracts import dossiers as ev
from services.notifications.adapters.orm import DeliveryRow
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.context import Context
from services.notifications.delivery import deliver_pending
from services.notifications.dependencies import load_channels
from services.notifications.digest import send_digests
from services.notifications.domain.masking import find_personal_data
from services.notifications.handlers import apply_event
from tests.support.services import free_port

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PERSONAL = ("Nguyễn Thị Minh Khai", "001203012345", "0912345678", "minh.khai.nguyen@example.com")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


def test_one_digest_per_unit_and_working_day_arrives_clean(database_url: str) -> None:
    upgrade("notifications", database_url)
    engine = make_engine(database_url)
    uow = NotificationsUnitOfWork(session_factory(engine))
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    channels = load_channels({"PROVINCE": "demo", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                              "SMTP_ATTEMPTS": 1})
    province, calendar = load_province("demo"), load_calendar()

    def ctx(day: int, hour: int, minute: int = 0) -> Context:
        return Context(province, calendar, channels,
                       datetime(2026, 10, day, hour, minute, tzinfo=VN))

    def digests() -> list[str]:
        with engine.connect() as conn:
            return list(conn.scalars(select(DeliveryRow.address)
                                     .where(DeliveryRow.purpose == "digest")))

    try:
        snap = ev.DossierSnapshot(
            dossier_code="H99.01-261001-0011", version=4, unit_code="H99.01",
            procedure_code="1.003753", status=ev.Status.IN_PROCESSING,
            due_at=datetime(2026, 10, 5, 17, tzinfo=VN), deadline_state=ev.DeadlineState.OVERDUE)
        with uow:
            apply_event(uow, ev.DossierOverdue(dossier=snap), ctx(6, 8))
            uow.commit()
        assert send_digests(uow, ctx(6, 16, 0)) == 0  # before 16:30
        assert send_digests(uow, ctx(6, 16, 35)) == 1
        assert send_digests(uow, ctx(6, 16, 50)) == 0  # today's is done
        assert digests() == ["lanh-dao.h99-01@tinhmau.example"]
        assert send_digests(uow, ctx(10, 16, 45)) == 0  # a Saturday
        assert send_digests(uow, ctx(12, 16, 45)) == 1  # Monday
        assert len(digests()) == 2
        # Two alert emails and two digests, all sent by one delivery pass.
        assert deliver_pending(uow, ctx(12, 16, 46)) == 4
    finally:
        controller.stop()
        engine.dispose()
    subjects = []
    for _, raw in inbox.messages:
        msg = email.message_from_bytes(raw, policy=default)
        assert isinstance(msg, EmailMessage)
        subjects.append(str(msg["Subject"]))
        assert find_personal_data(str(msg["Subject"]) + msg.get_content(), PERSONAL) == []
    assert sorted(s.startswith("[ParPulse] Tổng hợp cảnh báo") for s in subjects) == [
        False, False, True, True]
