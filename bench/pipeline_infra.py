"""The benchmark's throwaway infrastructure: a RabbitMQ vhost, PostgreSQL databases, free
ports, and readers for queue depths and the services' /metrics pages."""

from __future__ import annotations

import os
import socket
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pika
from bench_publisher import HOST, mgmt
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from services.common.db import normalise_url

# Another server (say, one with pg_stat_statements loaded, for profiling) by environment.
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def vhost() -> Iterator[str]:
    """A vhost of its own (created and deleted through the management API); yields its URL."""
    name = f"parpulse-bench-{uuid.uuid4().hex[:8]}"
    quoted = urllib.parse.quote(name, safe="")
    mgmt("PUT", f"vhosts/{quoted}", {})
    try:
        mgmt("PUT", f"permissions/{quoted}/guest", {"configure": ".*", "write": ".*", "read": ".*"})
        yield f"amqp://guest:guest@{HOST}/{quoted}"
    finally:
        mgmt("DELETE", f"vhosts/{quoted}")


class Databases:
    """One fresh PostgreSQL database per name; `drop_all` removes them (forcibly)."""

    def __init__(self, admin_url: str = PG_ADMIN) -> None:
        self.admin_url = admin_url
        self.engine = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
        self.tag = uuid.uuid4().hex[:8]
        self.created: list[str] = []

    def create(self, name: str) -> str:
        db = f"parpulse_bench_{self.tag}_{name}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        self.created.append(db)
        return f"{self.admin_url.rsplit('/', 1)[0]}/{db}"

    def drop_all(self) -> None:
        with self.engine.connect() as conn:
            for db in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        self.created.clear()
        self.engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class QueueDepths:
    """Ready messages per queue, read with passive declares (real time, unlike the management
    API's sampled statistics). One connection; use from one thread."""

    def __init__(self, url: str) -> None:
        self.conn = pika.BlockingConnection(pika.URLParameters(url))

    def ready(self, queue: str) -> int | None:
        try:
            channel = self.conn.channel()
            count = int(channel.queue_declare(queue, passive=True).method.message_count)
            channel.close()
            return count
        except pika.exceptions.ChannelClosedByBroker:  # not declared (yet)
            return None

    def close(self) -> None:
        if self.conn.is_open:
            self.conn.close()


@dataclass
class Scrape:
    """Sums over one or more processes' /metrics pages."""

    consumed: dict[tuple[str, str], float]  # (queue, outcome) -> messages
    published: dict[str, float]  # service -> outbox rows confirmed
    backlog: dict[str, float]  # service -> outbox rows pending

    def queue_total(self, queue: str) -> float:
        return sum(v for (q, o), v in self.consumed.items() if q == queue and o != "failed")

    def outcome(self, queue: str, outcome: str) -> float:
        return self.consumed.get((queue, outcome), 0.0)


def scrape(addresses: list[str], timeout: float = 10.0) -> Scrape:
    out = Scrape({}, {}, {})
    for address in addresses:
        page = urllib.request.urlopen(f"http://{address}/metrics", timeout=timeout).read()
        for family in text_string_to_metric_families(page.decode()):
            for s in family.samples:
                if s.name == "parpulse_messages_consumed_total":
                    key = (s.labels["queue"], s.labels["outcome"])
                    out.consumed[key] = out.consumed.get(key, 0.0) + s.value
                elif s.name == "parpulse_outbox_published_total":
                    svc = s.labels["service"]
                    out.published[svc] = out.published.get(svc, 0.0) + s.value
                elif s.name == "parpulse_outbox_backlog":
                    # Every replica counts the same shared table: the largest is the backlog.
                    svc = s.labels["service"]
                    out.backlog[svc] = max(out.backlog.get(svc, 0.0), s.value)
    return out
