"""RabbitMQ management API helpers for tests (vhosts, queue inspection)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import urllib.parse
import urllib.request
from typing import Any

MGMT = os.environ.get("TEST_RABBIT_MGMT", "http://127.0.0.1:15672")
AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()


def _call(method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(MGMT + path, data=data, method=method, headers={
        "Authorization": AUTH, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def create_vhost(name: str) -> None:
    _call("PUT", f"/api/vhosts/{_q(name)}", {})
    _call("PUT", f"/api/permissions/{_q(name)}/guest",
          {"configure": ".*", "write": ".*", "read": ".*"})


def delete_vhost(name: str) -> None:
    # Cleanup must not mask the test's own failure.
    with contextlib.suppress(Exception):
        _call("DELETE", f"/api/vhosts/{_q(name)}")


def vhost_of(uri: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlparse(uri).path[1:])


def queue_info(uri: str, queue: str) -> dict[str, Any]:
    info: dict[str, Any] = _call("GET", f"/api/queues/{_q(vhost_of(uri))}/{_q(queue)}")
    return info


def get_messages(uri: str, queue: str, count: int = 100) -> list[dict[str, Any]]:
    """Take up to `count` messages off a queue (acked): for inspecting DLQs and taps."""
    result: list[dict[str, Any]] = _call(
        "POST", f"/api/queues/{_q(vhost_of(uri))}/{_q(queue)}/get",
        {"count": count, "ackmode": "ack_requeue_false", "encoding": "auto"})
    return result


def publishing_connection(uri: str) -> Any:
    """A kombu connection whose publishes wait for the broker's confirm. Without it, messages
    published just before the connection closes can be lost in flight (nothing tells the
    publisher), and a test would blame the service for them."""
    from kombu import Connection

    return Connection(uri, transport_options={"confirm_publish": True})
