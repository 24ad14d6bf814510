"""The gateway on the real broker and database, an HTTP client with the four roles' tokens, and
a publisher of events the way the other services' outbox relays send them."""

from __future__ import annotations

import hashlib
import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kombu import Producer

from services.common.topology import events_exchange
from services.contracts.base import Event
from services.gateway.service import GatewayService
from tests.support.broker import publishing_connection
from tests.support.services import running, service_config

TOKENS = {"viewer": "viewer-secret", "operator": "operator-secret",
          "integrator": "integrator-secret", "admin": "admin-secret"}


def token_config(**roles: str) -> str:
    return json.dumps([{"name": f"{role}-token", "role": role,
                        "sha256": hashlib.sha256(token.encode()).hexdigest()}
                       for role, token in roles.items()])


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        self.host, self.port = host, int(port)

    def call(self, method: str, path: str, role: str | None = None, body: Any = None,
             raw: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 20) -> Answer:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        sent = dict(headers or {})
        if role is not None:
            sent["Authorization"] = f"Bearer {TOKENS[role]}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=sent)
            resp = conn.getresponse()
            return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()},
                          resp.read())
        finally:
            conn.close()

    def get(self, path: str, role: str | None = None, **kw: Any) -> Answer:
        return self.call("GET", path, role, **kw)

    def post(self, path: str, role: str | None = None, **kw: Any) -> Answer:
        return self.call("POST", path, role, **kw)


class Events:
    """Publishes events as the services' outbox relays do: routing key and type = TYPE,
    message id = event id."""

    def __init__(self, uri: str) -> None:
        self.conn = publishing_connection(uri)
        self.producer = Producer(self.conn.channel(), exchange=events_exchange)

    def send(self, event: Event) -> None:
        self.producer.publish(event.model_dump_json().encode(), routing_key=event.TYPE,
                              content_type="application/json", content_encoding="binary",
                              delivery_mode=2, type=event.TYPE,
                              message_id=str(event.event_id))

    def close(self) -> None:
        self.conn.release()


def gateway_config(vhost: str, database_url: str, **extra: Any) -> dict[str, Any]:
    return service_config(vhost, database_url, API_TOKENS=token_config(**TOKENS),
                          KPI_INTERVAL=0.2, SSE_POLL=0.2, SSE_HEARTBEAT=1, RPC_TIMEOUT=2,
                          CLOCK_START="2026-10-06T08:00:00+07:00", **extra)


@pytest.fixture
def gateway(vhost: str, database_url: str) -> Iterator[dict[str, Any]]:
    cfg = gateway_config(vhost, database_url)
    events = Events(vhost)
    with running(GatewayService, cfg, migrate="gateway") as container:
        yield {"container": container, "cfg": cfg, "client": Client(cfg["WEB_SERVER_ADDRESS"]),
               "events": events, "vhost": vhost}
    events.close()
