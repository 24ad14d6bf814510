"""The notifications service on the real broker and database: one alert per key across
redelivery, re-sending and a restart; email through a real SMTP server, masked; the apology
draft with the new date from the working calendar, through RPC."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from email.policy import default
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from kombu import Producer
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import func, select

from services.common.calendar_data import load_calendar
from services.common.db import make_engine
from services.common.tables import ProcessedMessage
from services.common.topology import events_exchange
from services.contracts import dossiers as ev
from services.contracts.base import Event
from services.notifications.adapters.orm import DeliveryRow
from services.notifications.domain.masking import assert_no_personal_data, find_personal_data
from services.notifications.handlers import CONSUMER
from services.notifications.service import EVENTS_QUEUE, NotificationsService
from tests.support import broker
from tests.support.broker import publishing_connection
from tests.support.services import EventTap, free_port, running, service_config, wait_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CLOCK_START = datetime(2026, 10, 6, 8, 0, tzinfo=VN)  # a Tuesday, in working time
CODE = "H99.01-261001-0007"
# What the one-stop system knows about an applicant; none of it may ever leave notifications.
PERSONAL = ("Nguyễn Thị Minh Khai", "001203012345", "0912345678", "minh.khai.nguyen@example.com")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def cfg(vhost: str, database_url: str, smtp: tuple[Inbox, int],
        monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.delenv("PARPULSE_WEBHOOK_SECRET_INTEGRATOR", raising=False)
    return service_config(vhost, database_url, CLOCK_START=CLOCK_START.isoformat(),
                          SMTP_HOST="127.0.0.1", SMTP_PORT=smtp[1], SMTP_ATTEMPTS=1,
                          SMTP_FROM="parpulse@tinhmau.example", DELIVERY_INTERVAL=0.2)


def publish(uri: str, event: Event, message_id: str | None = None) -> None:
    with publishing_connection(uri) as conn:
        Producer(conn.channel(), exchange=events_exchange).publish(
            event.model_dump_json().encode(), routing_key=event.TYPE, type=event.TYPE,
            message_id=message_id or str(event.event_id), content_type="application/json",
            content_encoding="binary", delivery_mode=2)


def overdue() -> ev.DossierOverdue:
    snap = ev.DossierSnapshot(
        dossier_code=CODE, version=4, unit_code="H99.01", procedure_code="1.003753",
        status=ev.Status.IN_PROCESSING, accepted_at=datetime(2026, 10, 1, 8, tzinfo=VN),
        due_at=datetime(2026, 10, 5, 17, tzinfo=VN), deadline_state=ev.DeadlineState.OVERDUE)
    return ev.DossierOverdue(dossier=snap)


def processed(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(ProcessedMessage)
                                   .where(ProcessedMessage.consumer == CONSUMER)) or 0)
    finally:
        engine.dispose()


def deliveries(url: str) -> list[tuple[str, str, str, str | None]]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(DeliveryRow.alert_key, DeliveryRow.channel,
                                       DeliveryRow.outcome, DeliveryRow.error))
            return [(r[0], r[1], r[2], r[3]) for r in rows]
    finally:
        engine.dispose()


def settled(uri: str, url: str, count: int) -> bool:
    return processed(url) == count and broker.queue_info(uri, EVENTS_QUEUE).get("messages") == 0


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def assert_clean(raw: bytes) -> None:
    msg = parse(raw)
    assert_no_personal_data(str(msg["Subject"]) + "\n" + msg.get_content(), PERSONAL)
    text = raw.decode("utf-8", "replace").casefold()
    assert not [v for v in PERSONAL if v.casefold() in text]


def test_one_alert_per_key_across_redelivery_resend_and_restart(
        cfg: dict[str, Any], smtp: tuple[Inbox, int]) -> None:
    uri, url = cfg["AMQP_URI"], cfg["DATABASE_URL"]
    inbox, _ = smtp
    first = overdue()
    feed = EventTap(uri, "notification.#")
    with running(NotificationsService, cfg, migrate="notifications"):
        publish(uri, first)
        publish(uri, first)  # a redelivery: same message id
        publish(uri, overdue())  # the same fact re-sent as a new event
        wait_for(lambda: settled(uri, url, 2), what="both distinct events processed")
        wait_for(lambda: len(inbox.messages) == 2, what="the officer's and the head's email")
        with ClusterRpcClient(uri=uri) as rpc:
            alerts = rpc.notifications.list_alerts(unit_code="H99.01")
    assert [(a["kind"], a["dossier_code"], a["state"]) for a in alerts] == [
        ("overdue", CODE, "open")]
    with running(NotificationsService, cfg, migrate="notifications"):
        publish(uri, overdue())  # after a restart, yet another copy
        wait_for(lambda: settled(uri, url, 3), what="the copy after the restart")
        with ClusterRpcClient(uri=uri) as rpc:
            assert len(rpc.notifications.list_alerts(kind="overdue")) == 1
    raised = wait_for(lambda: feed.of_type("notification.alert_raised"), what="the feed event")
    assert [(e["alert"]["kind"], e["alert"]["dossier_code"]) for e in raised] == [
        ("overdue", CODE)]
    feed.close()
    assert sorted(rcpts[0] for rcpts, _ in inbox.messages) == [
        "lanh-dao.h99-01@tinhmau.example", "mot-cua.h99-01@tinhmau.example"]
    assert sorted(d[1:3] for d in deliveries(url)) == [("email", "delivered")] * 2
    msg = parse(inbox.messages[0][1])
    assert msg["Subject"] == f"[ParPulse] Hồ sơ quá hạn: {CODE}"
    assert "đã quá hạn trả kết quả" in msg.get_content()
    for _, raw in inbox.messages:
        assert_clean(raw)


def test_apology_draft_has_the_new_date_from_the_working_calendar(cfg: dict[str, Any]) -> None:
    uri, url = cfg["AMQP_URI"], cfg["DATABASE_URL"]
    with running(NotificationsService, cfg, migrate="notifications"):
        publish(uri, overdue())
        wait_for(lambda: settled(uri, url, 1), what="the overdue event")
        with ClusterRpcClient(uri=uri) as rpc:
            draft = rpc.notifications.get_apology(CODE)
            missing = rpc.notifications.get_apology("H99.01-000000-0000")
    assert missing is None
    # The service clock started at CLOCK_START; three working days on (policy) is Friday.
    expected = load_calendar().add_working_days(CLOCK_START, 3)
    new_due = datetime.fromisoformat(draft["new_due_at"]).astimezone(VN)
    assert new_due.date() == expected.date() == datetime(2026, 10, 9).date()
    assert new_due.hour == expected.hour
    body = draft["body_text"]
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in body and CODE in body
    assert "Ngày hẹn trả kết quả cũ: 17 giờ 00, ngày 05/10/2026." in body
    assert "ngày 09/10/2026" in body
    assert draft["alert_key"].startswith(f"overdue:{CODE}:")
    assert find_personal_data(body, PERSONAL) == []


def test_quarantine_alert_email_is_masked_and_a_failing_webhook_blocks_nothing(
        cfg: dict[str, Any], smtp: tuple[Inbox, int]) -> None:
    uri, url = cfg["AMQP_URI"], cfg["DATABASE_URL"]
    inbox, _ = smtp
    reason = ("data.0.SoDienThoai: invalid phone (got '0912345678'); "
              "contact minh.khai.nguyen@example.com")
    event = ev.MessageQuarantined(quarantine_id=42, source_format="dvcqg.DongBoHoSoMC",
                                  reason=reason, unit_code=None)
    with running(NotificationsService, cfg, migrate="notifications"):
        publish(uri, event)
        wait_for(lambda: settled(uri, url, 1), what="the quarantine event")
        wait_for(lambda: inbox.messages, what="the integrators' email")
        wait_for(lambda: all(d[2] != "pending" for d in deliveries(url)),
                 what="every delivery settled")
        with ClusterRpcClient(uri=uri) as rpc:
            [alert] = rpc.notifications.list_alerts(kind="quarantined_input")
            acked = rpc.notifications.acknowledge(alert["key"], "tich-hop")
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "tich-hop"
    [(rcpts, raw)] = inbox.messages
    assert rcpts == ["tich-hop.motcua@tinhmau.example"]
    assert "(mã cách ly 42)" in parse(raw).get_content()
    assert_clean(raw)
    # The integrators' webhook has no secret configured: recorded as failed, email still sent.
    outcomes = sorted((channel, outcome) for _, channel, outcome, _ in deliveries(url))
    assert outcomes == [("email", "delivered"), ("webhook", "failed")]
    [error] = [e for _, channel, _, e in deliveries(url) if channel == "webhook"]
    assert error == "no webhook secret in PARPULSE_WEBHOOK_SECRET_INTEGRATOR"


def test_completion_resolves_the_overdue_alert_and_raises_completed_late(
        cfg: dict[str, Any]) -> None:
    uri, url = cfg["AMQP_URI"], cfg["DATABASE_URL"]
    late = overdue().dossier.model_copy(update={
        "version": 6, "status": ev.Status.DECIDED, "outcome": ev.Outcome.LATE,
        "completed_at": datetime(2026, 10, 6, 7, 30, tzinfo=VN), "deadline_state": None})
    with running(NotificationsService, cfg, migrate="notifications"):
        publish(uri, overdue())
        wait_for(lambda: settled(uri, url, 1), what="the overdue event")
        publish(uri, ev.DossierCompleted(dossier=late, outcome=ev.Outcome.LATE))
        wait_for(lambda: settled(uri, url, 2), what="the completion")
        with ClusterRpcClient(uri=uri) as rpc:
            alerts = {a["kind"]: a for a in rpc.notifications.list_alerts()}
    assert set(alerts) == {"overdue", "completed_late"}
    assert alerts["overdue"]["state"] == "resolved"
    assert alerts["overdue"]["resolution"] == "dossier_completed"
    assert alerts["completed_late"]["state"] == "open"


def test_quiet_hours_hold_deliveries_until_the_next_working_instant(
        vhost: str, database_url: str, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    evening = datetime(2026, 10, 6, 20, 0, tzinfo=VN)
    cfg = service_config(vhost, database_url, CLOCK_START=evening.isoformat(),
                         SMTP_HOST="127.0.0.1", SMTP_PORT=port, DELIVERY_INTERVAL=0.2)
    with running(NotificationsService, cfg, migrate="notifications"):
        publish(vhost, overdue())
        wait_for(lambda: settled(vhost, database_url, 1), what="the overdue event")
        rows = deliveries(database_url)
        engine = make_engine(database_url, pool_size=1)
        with engine.connect() as conn:
            held = set(conn.scalars(select(DeliveryRow.not_before)))
        engine.dispose()
    assert [(r[1], r[2]) for r in rows] == [("email", "pending")] * 2
    assert held == {datetime(2026, 10, 7, 7, 0, tzinfo=VN)}
    assert inbox.messages == []
