"""InboundPublisher against the real broker, in a vhost of its own (created and deleted here)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
import pytest

from services.contracts.inbound import FORMAT_DVCQG_PROGRESS, FORMAT_DVCQG_SYNC, FORMAT_NATIVE
from services.integrator import (
    FORMAT_HEADER,
    InboundPublisher,
    OutboundMessage,
    PublishError,
    dvcqg_progress_message,
    dvcqg_sync_message,
    native_message,
)

pytestmark = pytest.mark.broker

MGMT = os.environ.get("RABBITMQ_MGMT_URL", "http://127.0.0.1:15672")
AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()
REPO = Path(__file__).resolve().parents[3]
EXCHANGE = "parpulse.inbound"


def mgmt(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{MGMT}/api/{path}", data=data, method=method)
    request.add_header("Authorization", AUTH)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else None


@pytest.fixture(scope="module")
def vhost() -> Iterator[str]:
    name = f"parpulse-test-integrator-{uuid.uuid4().hex[:8]}"
    quoted = urllib.parse.quote(name, safe="")
    try:
        mgmt("PUT", f"vhosts/{quoted}", {})
    except (urllib.error.URLError, OSError) as exc:
        pytest.skip(f"RabbitMQ management API not reachable at {MGMT}: {exc}")
    try:
        mgmt("PUT", f"permissions/{quoted}/guest", {"configure": ".*", "write": ".*", "read": ".*"})
        yield name
    finally:
        mgmt("DELETE", f"vhosts/{quoted}")


@pytest.fixture(scope="module")
def amqp_url(vhost: str) -> str:
    return f"amqp://guest:guest@127.0.0.1:5672/{urllib.parse.quote(vhost, safe='')}"


@pytest.fixture
def queue(amqp_url: str) -> Iterator[tuple[pika.adapters.blocking_connection.BlockingChannel, str]]:
    """A queue bound to the three formats only, so other routing keys are unroutable."""
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = conn.channel()
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    name = channel.queue_declare("", exclusive=True).method.queue
    for fmt in (FORMAT_NATIVE, FORMAT_DVCQG_SYNC, FORMAT_DVCQG_PROGRESS):
        channel.queue_bind(name, EXCHANGE, routing_key=f"{fmt}.#")
    yield channel, name
    conn.close()


def drain(channel: Any, queue_name: str, expected: int) -> list[tuple[Any, Any, bytes]]:
    got: list[tuple[Any, Any, bytes]] = []
    for method, props, body in channel.consume(queue_name, auto_ack=True, inactivity_timeout=3):
        if method is None:
            break
        got.append((method, props, body))
        if len(got) == expected:
            break
    channel.cancel()
    return got


def native(i: int, unit: str = "H99.01") -> dict[str, Any]:
    return {
        "dossier_code": f"{unit}-260105-{i:04d}",
        "status": 1,
        "status_at": datetime(2026, 1, 5, 8, 0, tzinfo=UTC).isoformat(),
        "unit_code": unit,
        "procedure_code": "1.000001",
    }


def sync_body(units: list[str]) -> dict[str, Any]:
    data = [
        {"MaHoSo": f"{u}-260105-{i:04d}", "MaTTHC": "1.000001", "TrangThaiHoSo": 1,
         "DonViXuLy": u, "NgayNopHoSo": "20260105080000"}
        for i, u in enumerate(units)
    ]
    return {"service": "DongBoHoSoMC", "isUpdating": "False", "data": data}


def progress_body() -> dict[str, Any]:
    step = {"MaHoSo": "H99.01-260105-0001", "ThoiDiemXuLy": "20260105090000", "TrangThai": 4}
    return {"service": "CapNhatTienDoHoSoMC", "data": [step]}


def test_publish_many_delivers_every_message_with_its_properties(amqp_url: str, queue: Any) -> None:
    channel, name = queue
    messages: list[OutboundMessage] = [native_message(native(i)) for i in range(450)]
    messages += [dvcqg_sync_message(sync_body(["H99.02", "H99.02"])) for _ in range(25)]
    messages += [dvcqg_sync_message(sync_body(["H99.02", "H99.03"])) for _ in range(15)]
    messages += [dvcqg_progress_message(progress_body(), unit_code="H99.01") for _ in range(10)]
    with InboundPublisher(amqp_url, batch_size=64) as publisher:
        assert publisher.publish_many(messages) == len(messages)

    got = drain(channel, name, len(messages))
    assert len(got) == len(messages)
    sent = {m.message_id: m for m in messages}
    assert {props.message_id for _, props, _ in got} == set(sent)
    for method, props, body in got:
        message = sent[props.message_id]
        assert props.type == message.fmt
        assert props.headers[FORMAT_HEADER] == message.fmt
        assert props.content_type == "application/json"
        assert props.delivery_mode == 2
        assert method.routing_key == message.routing_key
        assert body == message.body
    keys = {method.routing_key for method, _, _ in got}
    assert keys == {
        "parpulse.dossier.v1.H99.01",
        "dvcqg.DongBoHoSoMC.H99.02",
        "dvcqg.DongBoHoSoMC.mixed",
        "dvcqg.CapNhatTienDoHoSoMC.H99.01",
    }


def test_the_publisher_declares_the_exchange_itself(vhost: str, amqp_url: str) -> None:
    with InboundPublisher(amqp_url, exchange="parpulse.inbound.fresh") as publisher:
        publisher.open()
    quoted = urllib.parse.quote(vhost, safe="")
    exchange = mgmt("GET", f"exchanges/{quoted}/parpulse.inbound.fresh")
    assert (exchange["type"], exchange["durable"]) == ("topic", True)


def test_flush_confirms_what_the_single_publish_calls_handed_over(
    amqp_url: str, queue: Any
) -> None:
    channel, name = queue
    with InboundPublisher(amqp_url) as publisher:
        ids = [publisher.publish_native(native(i), message_id=f"fixed-{i}") for i in range(30)]
        ids.append(publisher.publish_dvcqg_sync(sync_body(["H99.04"])))
        ids.append(publisher.publish_dvcqg_progress(progress_body(), unit_code="H99.04"))
        ids.append(publisher.publish_raw(b"{not json", FORMAT_NATIVE, f"{FORMAT_NATIVE}.H99.04"))
        assert publisher.flush() == len(ids)
        assert publisher.flush() == 0  # nothing new since the last flush
    got = drain(channel, name, len(ids))
    assert sorted(props.message_id for _, props, _ in got) == sorted(ids)
    assert "fixed-7" in ids


def test_an_unroutable_message_is_reported_and_the_rest_confirmed(
    amqp_url: str, queue: Any
) -> None:
    channel, name = queue
    good = [native_message(native(i)) for i in range(20)]
    lost = OutboundMessage(b"{}", FORMAT_NATIVE, "nobody.binds.this")
    with InboundPublisher(amqp_url) as publisher:
        with pytest.raises(PublishError) as caught:
            publisher.publish_many([*good[:10], lost, *good[10:]])
        assert [f.message for f in caught.value.of_kind("returned")] == [lost]
        assert "NO_ROUTE" in caught.value.failed[0].reason
        assert caught.value.confirmed == 20
        # The same publisher keeps working after a failed batch.
        assert publisher.publish_many([native_message(native(99))]) == 1
    assert len(drain(channel, name, 21)) == 21


def test_single_publish_of_an_unroutable_message_fails_at_flush(amqp_url: str) -> None:
    with InboundPublisher(amqp_url) as publisher:
        mid = publisher.publish_raw(b"{}", FORMAT_NATIVE, "nobody.binds.this.either")
        with pytest.raises(PublishError) as caught:
            publisher.flush()
    assert [f.message.message_id for f in caught.value.of_kind("returned")] == [mid]


def test_a_closed_connection_is_reported_and_replaced(
    vhost: str, amqp_url: str, queue: Any
) -> None:
    channel, name = queue
    with InboundPublisher(amqp_url) as publisher:
        assert publisher.publish_many([native_message(native(1))]) == 1
        close_connections(vhost, "parpulse-integrator")
        # Whatever was in flight when the broker closed the connection is either confirmed or
        # listed as unconfirmed; the next batch goes out on a new connection.
        messages = [native_message(native(i)) for i in range(50)]
        try:
            publisher.publish_many(messages)
        except PublishError as exc:
            assert {f.kind for f in exc.failed} == {"unconfirmed"}
            assert publisher.publish_many([f.message for f in exc.failed]) == len(exc.failed)
    received = {props.message_id for _, props, _ in drain(channel, name, 51)}
    assert {m.message_id for m in messages} <= received


def close_connections(vhost: str, connection_name: str) -> None:
    """Asks the broker to close our publisher's connection (the management list lags a little)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        conns = mgmt("GET", "connections")
        ours = [
            c for c in conns
            if c.get("vhost") == vhost
            and c.get("client_properties", {}).get("connection_name") == connection_name
        ]
        if ours:
            for conn in ours:
                mgmt("DELETE", f"connections/{urllib.parse.quote(conn['name'], safe='')}")
            return
        time.sleep(0.2)
    raise AssertionError("the publisher's connection never showed up in the management API")


def test_an_unreachable_broker_fails_fast_with_every_message_listed() -> None:
    publisher = InboundPublisher("amqp://guest:guest@127.0.0.1:1/", confirm_timeout=5)
    with pytest.raises(ConnectionError):
        publisher.open()
    messages = [native_message(native(i)) for i in range(3)]
    with pytest.raises(PublishError) as caught:
        publisher.publish_many(messages)
    assert [f.message for f in caught.value.failed] == messages
    assert caught.value.confirmed == 0
    publisher.close()


def test_threads_can_share_one_publisher(amqp_url: str, queue: Any) -> None:
    channel, name = queue
    results: list[int] = []
    with InboundPublisher(amqp_url, batch_size=16) as publisher:

        def work(worker: int) -> None:
            batch = [native_message(native(1000 * worker + i)) for i in range(100)]
            results.append(publisher.publish_many(batch))
            for i in range(20):
                publisher.publish_native(native(1000 * worker + 500 + i))

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results.append(publisher.flush())
    assert results[:4] == [100] * 4 and results[4] == 80
    assert len(drain(channel, name, 480)) == 480


EVENTLET_SCRIPT = """
import eventlet
eventlet.monkey_patch()
import json, sys
from datetime import UTC, datetime
from services.integrator import InboundPublisher, native_message

def event(worker, i):
    return {"dossier_code": f"H99.05-260105-{worker}{i:04d}", "status": 1,
            "status_at": datetime(2026, 1, 5, 8, tzinfo=UTC).isoformat(), "unit_code": "H99.05"}

with InboundPublisher(sys.argv[1], batch_size=32) as publisher:
    def batch(worker):
        return publisher.publish_many([native_message(event(worker, i)) for i in range(100)])
    def singles(worker):
        for i in range(50):
            publisher.publish_native(event(worker, i))
        return 50
    pool = eventlet.GreenPool()
    results = list(pool.imap(batch, range(4))) + [sum(pool.imap(singles, range(4, 6)))]
    results.append(publisher.flush())
print(json.dumps(results))
"""


def test_works_under_eventlet_monkey_patching(amqp_url: str, queue: Any) -> None:
    channel, name = queue
    done = subprocess.run(
        [sys.executable, "-c", EVENTLET_SCRIPT, amqp_url],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [100, 100, 100, 100, 100, 100]
    assert len(drain(channel, name, 500)) == 500
