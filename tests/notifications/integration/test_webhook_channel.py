"""Signed webhooks to a real HTTP server on 127.0.0.1: signature, retries, dead-letter, and no
personal data in any body. Sleeps are recorded, not slept."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.notifications.adapters.dispatch import Outbound, dispatch
from services.notifications.adapters.email import SmtpConfig, SmtpSender
from services.notifications.adapters.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    WebhookConfig,
    WebhookSender,
    verify,
)
from services.notifications.domain import alerts as al
from services.notifications.domain.alerts import decide_alerts
from services.notifications.domain.contacts import Target
from services.notifications.domain.facts import DossierFacts, QuarantineFacts
from services.notifications.domain.masking import assert_no_personal_data
from services.notifications.domain.render import render_email, render_webhook

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 10, 8, 9, 0, tzinfo=VN)
SECRET = b"integration-secret"
FACTS = DossierFacts("H99.02", "H99.02-251001-0042", "2.000111", 4,
                     due_at=datetime(2025, 10, 7, 17, tzinfo=VN))


class Receiver:
    """Answers each POST with the next scripted status (the last one repeats) and keeps it."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []

    def next_status(self) -> int:
        return self.statuses[min(len(self.requests) - 1, len(self.statuses) - 1)]


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[tuple[Receiver, str]]:
    rec = Receiver(getattr(request, "param", [200]))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            # Header names are case-insensitive (urllib sends X-parpulse-signature).
            rec.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = rec.next_status()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec, f"http://127.0.0.1:{server.server_address[1]}/hooks/parpulse"
    finally:
        server.shutdown()
        server.server_close()


def sender(sleeps: list[float], attempts: int = 4) -> WebhookSender:
    return WebhookSender(WebhookConfig(timeout_s=5, attempts=attempts, base_delay_s=1.5),
                         sleep=sleeps.append)


def payload() -> dict[str, Any]:
    [alert] = decide_alerts(al.OVERDUE, FACTS, NOW)
    return render_webhook(alert, unit_name="Sở Tài chính")


def test_a_signed_webhook_is_received_and_verifies(receiver: tuple[Receiver, str],
                                                   personal: dict[str, str]) -> None:
    rec, url = receiver
    sleeps: list[float] = []
    result = sender(sleeps).send(url, SECRET, payload(), delivery_id="overdue:x/alert",
                                 personal_values=personal.values())
    assert result.ok and result.attempts == 1 and result.status == 200 and sleeps == []
    [(headers, body)] = rec.requests
    assert verify(SECRET, headers[SIGNATURE_HEADER.lower()], body, now=time.time())
    assert not verify(b"wrong", headers[SIGNATURE_HEADER.lower()], body, now=time.time())
    assert headers[DELIVERY_HEADER.lower()] == "overdue:x/alert"
    assert headers["content-type"].startswith("application/json")
    doc = json.loads(body)
    assert doc["alert"]["kind"] == "overdue" and doc["alert"]["dossier_code"] == FACTS.dossier_code
    assert doc["title"] == "Hồ sơ quá hạn" and doc["alert"]["unit_name"] == "Sở Tài chính"
    assert_no_personal_data(body.decode("utf-8"), personal.values())


@pytest.mark.parametrize("receiver", [[500, 200]], indirect=True)
def test_a_500_then_200_is_retried_and_succeeds(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    sleeps: list[float] = []
    result = sender(sleeps).send(url, SECRET, payload())
    assert result.ok and result.attempts == 2 and not result.dead_lettered
    assert sleeps == [1.5] and result.attempt_errors == ("HTTP 500",)
    assert len(rec.requests) == 2
    # Each attempt is signed on its own and both verify.
    assert all(verify(SECRET, h[SIGNATURE_HEADER.lower()], b, now=time.time())
               for h, b in rec.requests)
    assert rec.requests[1][0]["x-parpulse-attempt"] == "2"


@pytest.mark.parametrize("receiver", [[500]], indirect=True)
def test_always_500_ends_dead_lettered_after_n_attempts(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    sleeps: list[float] = []
    result = sender(sleeps, attempts=4).send(url, SECRET, payload())
    assert not result.ok and result.dead_lettered and result.attempts == 4
    assert result.status == 500 and len(rec.requests) == 4
    assert sleeps == [1.5, 3.0, 6.0]  # exponential, none after the last attempt


@pytest.mark.parametrize("receiver", [[400]], indirect=True)
def test_a_client_error_is_not_retried(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    sleeps: list[float] = []
    result = sender(sleeps).send(url, SECRET, payload())
    assert not result.ok and result.dead_lettered and result.attempts == 1 and sleeps == []
    assert result.status == 400 and len(rec.requests) == 1


@pytest.mark.parametrize("receiver", [[302]], indirect=True)
def test_a_redirect_is_not_followed(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    result = sender([]).send(url, SECRET, payload())
    assert not result.ok and result.status == 302 and len(rec.requests) == 1


def test_an_unreachable_receiver_is_retried_then_dead_lettered() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the sender connects
    sleeps: list[float] = []
    result = sender(sleeps, attempts=3).send(f"http://127.0.0.1:{port}/x", SECRET, payload())
    assert not result.ok and result.dead_lettered and result.attempts == 3 and result.status is None
    assert sleeps == [1.5, 3.0]


def test_a_bad_url_fails_at_once() -> None:
    result = sender([]).send("not a url", SECRET, payload())
    assert not result.ok and result.dead_lettered and result.attempts == 1


def test_personal_data_is_blocked_before_sending(receiver: tuple[Receiver, str],
                                                 personal: dict[str, str]) -> None:
    rec, url = receiver
    leaky = {**payload(), "note": f"{personal['name']} / {personal['email']}"}
    result = sender([]).send(url, SECRET, leaky, personal_values=personal.values())
    assert not result.ok and result.blocked and result.dead_lettered and rec.requests == []
    assert all(v not in (result.error or "") for v in personal.values())


def test_quarantine_webhook_carries_no_quoted_personal_input(
        receiver: tuple[Receiver, str], personal: dict[str, str]) -> None:
    rec, url = receiver
    reason = (f"data.0.SoGiayToChuHoSo: too long (got '{personal['id_number']}9'); "
              f"data.0.Email: not an email (got '{personal['email']}x')")
    [alert] = decide_alerts(al.QUARANTINED, QuarantineFacts(5, "dvcqg.DongBoHoSoMC", reason),
                            NOW)
    assert sender([]).send(url, SECRET, render_webhook(alert)).ok
    [(_, body)] = rec.requests
    assert "SoGiayToChuHoSo: too long (got ***)" in json.loads(body)["message"]
    assert_no_personal_data(body.decode("utf-8"), personal.values())


def test_a_failed_channel_never_blocks_the_others(receiver: tuple[Receiver, str],
                                                  personal: dict[str, str]) -> None:
    rec, url = receiver
    [alert] = decide_alerts(al.OVERDUE, FACTS, NOW)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    mail = SmtpSender(SmtpConfig(host="127.0.0.1", port=dead_port, attempts=2, timeout_s=2),
                      sleep=lambda _: None)
    targets = [
        Target("email", "mot-cua.h99-02@tinhmau.example", "handling_officer", "Một cửa"),
        Target("webhook", "https://nowhere.invalid/x", "handling_officer", "x", "MISSING"),
        Target("webhook", url, "handling_officer", "Sở Tài chính", "SECRET_H99_02"),
    ]
    outbound = Outbound(f"{alert.key}/alert", render_email(alert), render_webhook(alert))
    results = dispatch(targets, outbound, email=mail, webhook=sender([]),
                       secret_for={"SECRET_H99_02": SECRET}.get,
                       personal_values=personal.values())
    assert [r.ok for _, r in results] == [False, False, True]
    assert results[0][1].dead_lettered and "no webhook secret" in (results[1][1].error or "")
    [(headers, body)] = rec.requests
    assert verify(SECRET, headers[SIGNATURE_HEADER.lower()], body, now=time.time())
    assert headers[DELIVERY_HEADER.lower()].startswith(f"{alert.key}/alert/")
