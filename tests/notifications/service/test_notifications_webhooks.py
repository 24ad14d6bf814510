"""Signed webhooks from the running service to a real HTTP server: a valid signature, a retry
after a 500, a dead-letter after the last attempt, each recorded; one failing receiver does not
stop the other."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from kombu import Producer
from sqlalchemy import select

from services.common.db import make_engine
from services.common.topology import events_exchange
from services.contracts import dossiers as ev
from services.notifications.adapters.orm import DeliveryRow
from services.notifications.adapters.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from services.notifications.domain.masking import find_personal_data
from services.notifications.service import NotificationsService
from tests.support.broker import publishing_connection
from tests.support.services import free_port, running, service_config, wait_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SECRET = "service-test-secret"
PERSONAL = ("Nguyễn Thị Minh Khai", "001203012345", "0912345678", "minh.khai.nguyen@example.com")
SCRIPT = {"/flaky": [500, 200], "/down": [500]}  # the last status repeats


@pytest.fixture
def receiver() -> Iterator[tuple[dict[str, list[tuple[dict[str, str], bytes]]], int]]:
    seen: dict[str, list[tuple[dict[str, str], bytes]]] = {path: [] for path in SCRIPT}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got = seen[self.path]
            got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            statuses = SCRIPT[self.path]
            self.send_response(statuses[min(len(got) - 1, len(statuses) - 1)])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen, port
    finally:
        server.shutdown()
        server.server_close()


def _contacts(tmp_path: Path, port: int) -> Path:
    def hook(path: str, name: str) -> list[dict[str, str]]:
        return [{"name": name, "webhook": f"http://127.0.0.1:{port}{path}",
                 "webhook_secret_env": "PARPULSE_TEST_WEBHOOK_SECRET"}]

    doc = {"units": {"H99.02": {"name": "Sở Tài chính",
                                "handling_officer": hook("/flaky", "Một cửa"),
                                "unit_head": hook("/down", "Lãnh đạo")}}}
    path = tmp_path / "contacts.yaml"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_signed_webhooks_retried_then_dead_lettered_and_recorded(
        vhost: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        receiver: tuple[dict[str, list[tuple[dict[str, str], bytes]]], int]) -> None:
    seen, port = receiver
    monkeypatch.setenv("PARPULSE_TEST_WEBHOOK_SECRET", SECRET)
    cfg = service_config(vhost, database_url, CLOCK_START="2026-10-06T08:00:00+07:00",
                         CONTACTS=str(_contacts(tmp_path, port)), WEBHOOK_ATTEMPTS=3,
                         WEBHOOK_BASE_DELAY=0.01, DELIVERY_INTERVAL=0.2)
    snap = ev.DossierSnapshot(
        dossier_code="H99.02-261001-0042", version=3, unit_code="H99.02",
        procedure_code="1.003753", status=ev.Status.IN_PROCESSING,
        due_at=datetime(2026, 10, 5, 17, tzinfo=VN), deadline_state=ev.DeadlineState.OVERDUE)
    event = ev.DossierOverdue(dossier=snap)
    engine = make_engine(database_url, pool_size=1)

    def outcomes() -> dict[str, tuple[str, int, str | None]]:
        with engine.connect() as conn:
            rows = conn.execute(select(DeliveryRow.address, DeliveryRow.outcome,
                                       DeliveryRow.attempts, DeliveryRow.error))
            return {r[0].rpartition("/")[2]: (r[1], r[2], r[3]) for r in rows}

    with running(NotificationsService, cfg, migrate="notifications"):
        with publishing_connection(vhost) as conn:
            Producer(conn.channel(), exchange=events_exchange).publish(
                event.model_dump_json().encode(), routing_key=event.TYPE, type=event.TYPE,
                message_id=str(event.event_id), content_type="application/json",
                content_encoding="binary", delivery_mode=2)
        wait_for(lambda: (o := outcomes()) and len(o) == 2
                 and all(v[0] != "pending" for v in o.values()), what="both deliveries settled")
    assert outcomes() == {"flaky": ("delivered", 2, None), "down": ("failed", 3, "HTTP 500")}
    engine.dispose()
    assert [len(seen["/flaky"]), len(seen["/down"])] == [2, 3]
    now = time.time()
    for path, requests in seen.items():
        ids = {headers[DELIVERY_HEADER.lower()] for headers, _ in requests}
        assert len(ids) == 1, path  # every attempt of one delivery carries the same id
        for headers, body in requests:
            assert verify(SECRET.encode(), headers[SIGNATURE_HEADER.lower()], body, now)
            assert not verify(b"another-secret", headers[SIGNATURE_HEADER.lower()], body, now)
            payload = json.loads(body)
            assert payload["alert"]["kind"] == "overdue"
            assert payload["alert"]["dossier_code"] == "H99.02-261001-0042"
            assert find_personal_data(body.decode("utf-8"), PERSONAL) == []

