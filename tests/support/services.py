"""Running nameko services in-process against the real broker and database, and watching what
they publish."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kombu import Connection, Queue
from kombu.common import maybe_declare
from nameko import config
from nameko.containers import ServiceContainer

from services.common.migrate import upgrade
from services.common.topology import base_entities, events_exchange


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_config(amqp_uri: str, database_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": database_url,
        "PROVINCE": "demo",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "max_workers": 10,
        "DELIVERY_LIMIT": 3,
        "SWEEP_INTERVAL": 3600,
        **extra,
    }


@contextmanager
def running(service_cls: type, cfg: dict[str, Any], migrate: str | None = None
            ) -> Iterator[ServiceContainer]:
    if migrate:
        upgrade(migrate, cfg["DATABASE_URL"])
    with config.patch(cfg, clear=False):
        container = ServiceContainer(service_cls)
        container.start()
        try:
            yield container
        finally:
            container.stop()


class EventTap:
    """A queue bound to `parpulse.events` that collects every event published there."""

    def __init__(self, amqp_uri: str, routing_key: str = "#") -> None:
        self.conn = Connection(amqp_uri)
        channel = self.conn.channel()
        for entity in base_entities():
            maybe_declare(entity, channel)
        self.queue = Queue("", exchange=events_exchange, routing_key=routing_key,
                           exclusive=True, auto_delete=True)(channel)
        self.queue.declare()
        self.events: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        while True:
            msg = self.queue.get(no_ack=True)
            if msg is None:
                return self.events
            body = json.loads(msg.body)
            body["_type"] = msg.properties.get("type")
            body["_message_id"] = msg.properties.get("message_id")
            self.events.append(body)

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.drain() if e["_type"] == event_type]

    def close(self) -> None:
        self.conn.release()


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05,
             what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy; fail with `what` after `timeout` seconds. A bound on
    waiting, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
