"""Publisher throughput: raw pika without confirms, pika with one synchronous confirm per
message, and InboundPublisher's pipelined confirms; same broker, same message, one run.

    python bench/bench_publisher.py [--messages 20000] [--queue-type quorum]

Runs in a vhost of its own, created and deleted through the management API.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.integrator import InboundPublisher, native_message

EXCHANGE = "parpulse.inbound"
QUEUE = "bench.inbound"
MGMT = os.environ.get("RABBITMQ_MGMT_URL", "http://127.0.0.1:15672")
HOST = os.environ.get("RABBITMQ_HOST", "127.0.0.1:5672")


def mgmt(method: str, path: str, body: dict[str, Any] | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{MGMT}/api/{path}", data=data, method=method)
    request.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    request.add_header("Content-Type", "application/json")
    urllib.request.urlopen(request, timeout=10).close()


def sample_event(i: int) -> dict[str, Any]:
    return {
        "dossier_code": f"H99.01-260105-{i:06d}",
        "status": 4,
        "status_at": datetime(2026, 1, 5, 9, 30, tzinfo=UTC).isoformat(),
        "unit_code": "H99.01",
        "procedure_code": "1.001234",
        "channel": 2,
        "applicant_type": 1,
        "submitted_at": datetime(2026, 1, 5, 8, 0, tzinfo=UTC).isoformat(),
        "accepted_at": datetime(2026, 1, 5, 8, 20, tzinfo=UTC).isoformat(),
        "source_due_at": datetime(2026, 1, 9, 10, 0, tzinfo=UTC).isoformat(),
        "digitised": True,
        "vneid_verified": True,
        "holder_name": "Nguyễn Văn Mẫu 0123",
        "phone": "0900012345",
    }


def prepare(url: str, queue_type: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    channel = conn.channel()
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_delete(QUEUE)
    channel.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": queue_type})
    channel.queue_bind(QUEUE, EXCHANGE, routing_key="#")
    conn.close()


def purge(url: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    conn.channel().queue_purge(QUEUE)
    conn.close()


def pika_loop(url: str, messages: list[Any], confirms: bool) -> float:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    channel = conn.channel()
    if confirms:
        channel.confirm_delivery()
    started = time.perf_counter()
    for m in messages:
        channel.basic_publish(EXCHANGE, m.routing_key, m.body, m.properties(), mandatory=True)
    if not confirms:
        channel.queue_declare(QUEUE, passive=True)  # one round trip: the broker has read them
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def inbound_many(url: str, messages: list[Any], batch_size: int) -> float:
    with InboundPublisher(url, batch_size=batch_size) as publisher:
        started = time.perf_counter()
        assert publisher.publish_many(messages) == len(messages)
        return time.perf_counter() - started


def inbound_singles(url: str, messages: list[Any], batch_size: int) -> float:
    with InboundPublisher(url, batch_size=batch_size) as publisher:
        started = time.perf_counter()
        for m in messages:
            publisher.publish(m)
        assert publisher.flush() == len(messages)
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--sync-messages", type=int, default=None,
                        help="messages for the synchronous-confirm baseline (default: a quarter)")
    parser.add_argument("--queue-type", choices=["quorum", "classic"], default="quorum")
    parser.add_argument("--batch-size", type=int, default=200,
                        help="InboundPublisher's window of unconfirmed messages")
    args = parser.parse_args()
    vhost = f"parpulse-bench-{uuid.uuid4().hex[:8]}"
    quoted = urllib.parse.quote(vhost, safe="")
    url = f"amqp://guest:guest@{HOST}/{quoted}"
    mgmt("PUT", f"vhosts/{quoted}", {})
    try:
        mgmt("PUT", f"permissions/{quoted}/guest", {"configure": ".*", "write": ".*", "read": ".*"})
        prepare(url, args.queue_type)
        messages = [native_message(sample_event(i)) for i in range(args.messages)]
        sync_n = args.sync_messages or max(1000, args.messages // 4)
        runs: list[tuple[str, Callable[[], float], int]] = [
            ("pika, no confirms", lambda: pika_loop(url, messages, False), len(messages)),
            ("pika, sync confirm per message",
             lambda: pika_loop(url, messages[:sync_n], True), sync_n),
            ("InboundPublisher.publish_many", lambda: inbound_many(url, messages, args.batch_size),
             len(messages)),
            ("InboundPublisher.publish + flush",
             lambda: inbound_singles(url, messages, args.batch_size), len(messages)),
        ]
        size = len(messages[0].body)
        print(f"{os.cpu_count()} CPUs, {args.queue_type} queue, {size}-byte persistent messages, "
              f"InboundPublisher window {args.batch_size}")
        rates: dict[str, float] = {}
        for name, run, n in runs:
            purge(url)
            rates[name] = n / run()
            print(f"  {name:34} {n:>7} msgs  {rates[name]:>9.0f} msg/s")
        ratio = rates["InboundPublisher.publish_many"] / rates["pika, sync confirm per message"]
        print(f"  InboundPublisher.publish_many / sync-confirm baseline: {ratio:.1f}x")
        raw = rates["InboundPublisher.publish_many"] / rates["pika, no confirms"]
        print(f"  InboundPublisher.publish_many / no-confirm raw pika:   {raw:.2f}x")
    finally:
        mgmt("DELETE", f"vhosts/{quoted}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
