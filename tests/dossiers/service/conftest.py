from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from kombu import Exchange, Producer

from services.common.topology import INBOUND_EXCHANGE
from services.dossiers.service import DossiersService
from tests.support.broker import publishing_connection
from tests.support.services import EventTap, running, service_config


class Inbound:
    """Publishes inbound messages the way an integrator does (persistent, typed, with ids)."""

    def __init__(self, uri: str) -> None:
        self.conn = publishing_connection(uri)
        self.producer = Producer(self.conn.channel(),
                                 exchange=Exchange(INBOUND_EXCHANGE, type="topic", durable=True))

    def send(self, body: Any, fmt: str = "parpulse.dossier.v1", message_id: str | None = None,
             raw: bytes | None = None) -> str:
        message_id = message_id or str(uuid.uuid4())
        payload = raw if raw is not None else json.dumps(body, default=str).encode()
        self.producer.publish(payload, routing_key=f"{fmt}.test", content_type="application/json",
                              content_encoding="binary", delivery_mode=2, type=fmt,
                              message_id=message_id, headers={"parpulse-format": fmt})
        return message_id


@pytest.fixture
def dossiers(vhost: str, database_url: str) -> Iterator[dict[str, Any]]:
    # The service's clock reads Tuesday 6 Oct 2026 08:00, a day into the tests' dossiers.
    cfg = service_config(vhost, database_url, CLOCK_START="2026-10-06T08:00:00+07:00")
    tap = EventTap(vhost)
    with running(DossiersService, cfg, migrate="dossiers") as container:
        yield {"container": container, "cfg": cfg, "tap": tap, "inbound": Inbound(vhost)}
    tap.close()


def native(code: str, status: int, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"dossier_code": code, "status": status, "status_at": at.isoformat(),
            "unit_code": "H99.01", "procedure_code": "1.005342", **extra}
