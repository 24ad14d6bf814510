"""HTTP ingest on the real broker: published to parpulse.inbound with confirms before the answer,
malformed bodies refused with a reason, oversized ones with 413."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kombu import Queue
from kombu.common import maybe_declare

from services.common.topology import base_entities, inbound_exchange
from services.gateway.service import GatewayService
from tests.gateway.service.conftest import Client, gateway_config
from tests.support.broker import publishing_connection
from tests.support.services import running

DVCQG = {"service": "DongBoHoSoMC", "isUpdating": "False", "data": [{
    "MaHoSo": "H99.01-261006-0001", "MaTTHC": "1.005342", "TrangThaiHoSo": 2,
    "DonViXuLy": "H99.01", "NgayTiepNhan": "20261006073000", "ChuHoSo": "Nguyễn Văn A",
    "TruongLa": "unknown fields are kept"}]}
EVENT = {"dossier_code": "N-1", "status": 2, "status_at": "2026-10-06T07:30:00+07:00",
         "unit_code": "H99.01", "procedure_code": "1.005342"}


class InboundTap:
    def __init__(self, uri: str) -> None:
        self.conn = publishing_connection(uri)
        channel = self.conn.channel()
        for entity in base_entities():
            maybe_declare(entity, channel)
        self.queue = Queue("", exchange=inbound_exchange, routing_key="#", exclusive=True,
                           auto_delete=True)(channel)
        self.queue.declare()

    def messages(self) -> list[Any]:
        out = []
        while (msg := self.queue.get(no_ack=True)) is not None:
            out.append(msg)
        return out


@pytest.fixture
def tap(vhost: str) -> Iterator[InboundTap]:
    tap = InboundTap(vhost)
    yield tap
    tap.conn.release()


def test_dvcqg_call_is_published_as_sent_before_the_answer(gateway: dict[str, Any],
                                                          tap: InboundTap) -> None:
    raw = json.dumps(DVCQG, ensure_ascii=False).encode()
    answer = gateway["client"].post("/api/v1/ingest/dvcqg", "integrator", raw=raw)
    assert answer.status == 200, answer.body
    assert answer.json()["error_code"] == "0"
    # Confirmed before the answer: the message is already in the queue.
    (msg,) = tap.messages()
    assert msg.body == raw
    assert msg.properties["type"] == "dvcqg.DongBoHoSoMC"
    assert msg.properties["message_id"] == answer.json()["message_id"]
    assert msg.headers["parpulse-format"] == "dvcqg.DongBoHoSoMC"
    assert msg.delivery_info["routing_key"] == "dvcqg.DongBoHoSoMC.H99.01"


@pytest.mark.parametrize(("raw", "field"), [
    (b"{not json", None),
    (b"[]", None),
    (json.dumps({"service": "XoaHoSo", "data": []}).encode(), "service"),
    (json.dumps({"service": "DongBoHoSoMC", "data": "x"}).encode(), "data"),
    (json.dumps({"service": "DongBoHoSoMC", "data": []}).encode(), "data"),
], ids=["not-json", "not-object", "unknown-service", "data-not-list", "data-empty"])
def test_malformed_dvcqg_call_is_refused_in_its_style(gateway: dict[str, Any], tap: InboundTap,
                                                      raw: bytes, field: str | None) -> None:
    answer = gateway["client"].post("/api/v1/ingest/dvcqg", "integrator", raw=raw)
    assert answer.status == 400
    body = answer.json()
    assert body["error_code"] == "400" and body["message"]
    assert body["error"]["code"] in ("bad_request", "validation_error")
    if field:
        assert body["error"]["field"] == field
    assert tap.messages() == []


def test_native_events_are_validated_all_then_published(gateway: dict[str, Any],
                                                        tap: InboundTap) -> None:
    client = gateway["client"]
    events = [EVENT, {**EVENT, "dossier_code": "N-2"}]
    answer = client.post("/api/v1/ingest/events", "integrator", body={"events": events})
    assert answer.status == 200, answer.body
    assert answer.json()["accepted"] == 2
    published = tap.messages()
    assert [m.properties["message_id"] for m in published] == answer.json()["message_ids"]
    assert {json.loads(m.body)["dossier_code"] for m in published} == {"N-1", "N-2"}
    assert all(m.properties["type"] == "parpulse.dossier.v1" for m in published)
    # A retry of the same batch carries the same ids: the dossiers service dedups them.
    again = client.post("/api/v1/ingest/events", "admin", body={"events": events})
    assert again.json()["message_ids"] == answer.json()["message_ids"]
    tap.messages()
    bad = client.post("/api/v1/ingest/events", "integrator",
                      body={"events": [EVENT, {**EVENT, "status_at": "yesterday"}]})
    assert bad.status == 400
    error = bad.json()["error"]
    assert error["code"] == "validation_error" and error["index"] == 1
    assert error["field"] == "events[1].status_at"
    assert tap.messages() == []  # nothing of a refused batch is published
    empty = client.post("/api/v1/ingest/events", "integrator", body={"events": []})
    assert empty.status == 400 and empty.json()["error"]["field"] == "events"


def test_unconfirmed_ingest_answers_503(gateway: dict[str, Any]) -> None:
    # No queue is bound to parpulse.inbound: the broker returns the message, nothing took it.
    answer = gateway["client"].post("/api/v1/ingest/dvcqg", "integrator",
                                    raw=json.dumps(DVCQG).encode())
    assert answer.status == 503
    assert answer.json()["error_code"] == "-1"
    events = gateway["client"].post("/api/v1/ingest/events", "integrator",
                                    body={"events": [EVENT]})
    assert events.status == 503 and events.json()["error"]["code"] == "broker_unavailable"


def test_oversized_bodies_are_refused_with_413(vhost: str, tmp_path: Any,
                                               tap: InboundTap) -> None:
    cfg = gateway_config(vhost, f"sqlite:///{tmp_path}/gw.db", INGEST_MAX_BYTES=4096)
    with running(GatewayService, cfg, migrate="gateway"):
        client = Client(cfg["WEB_SERVER_ADDRESS"])
        big = {**DVCQG, "padding": "x" * 5000}
        answer = client.post("/api/v1/ingest/dvcqg", "integrator", raw=json.dumps(big).encode())
        assert answer.status == 413
        assert answer.json()["error_code"] == "413"
        assert answer.json()["error"]["code"] == "payload_too_large"
        events = client.post("/api/v1/ingest/events", "integrator",
                             body={"events": [EVENT] * 40})
        assert events.status == 413
        fits = client.post("/api/v1/ingest/dvcqg", "integrator", raw=json.dumps(DVCQG).encode())
        assert fits.status == 200
    assert len(tap.messages()) == 1
