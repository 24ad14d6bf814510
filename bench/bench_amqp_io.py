"""The services' AMQP socket I/O, with and without the two changes that batch it, in one run:

- the outbox relay's publish (ConfirmingPublisher.publish_batch, 500 messages a batch, pipelined
  confirms, quorum queue), corked into one write per batch (CorkedWriter) against py-amqp as it
  ships (one write per message);
- a consumer as the services run it (kombu, prefetch 1,500, one `multiple` ack per 500), with
  read-ahead (services.common.amqp_reads) against py-amqp's exact-size reads.

    python bench/bench_amqp_io.py [--messages 20000] [--rounds 3]

Both sides run under eventlet, as the services do. Reported: messages/s, this process's CPU per
message and the broker's (beam.smp) CPU per message; the median of the rounds (A and B
alternate) and the ratio B/A. Runs in a vhost of its own.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import psutil  # noqa: E402
from amqp.method_framing import frame_writer  # noqa: E402
from amqp.transport import TCPTransport  # noqa: E402
from kombu import Connection, Consumer, Exchange, Queue  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline_infra import vhost  # noqa: E402

from services.common import amqp_reads  # noqa: E402
from services.common.publisher import (  # noqa: E402
    ConfirmingPublisher,
    CorkedWriter,
    OutgoingMessage,
)

EXCHANGE = "bench.io"
BODY = b'{"event": "' + b"x" * 1200 + b'"}'  # about a dossier event with its snapshot
BATCH = 500


class UncorkedPublisher(ConfirmingPublisher):
    """The baseline: py-amqp's frame writer straight on the socket, one write per message."""

    def _frame_writer(self, connection: Any, transport: Any) -> Any:
        self._writer = CorkedWriter(transport.write)  # corked and uncorked, never written to
        return frame_writer(connection, transport)


class Meter:
    """Wall time, this process's CPU and the broker's CPU over a block of work."""

    def __init__(self) -> None:
        beams = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "beam.smp"]
        self.broker = beams[0] if len(beams) == 1 else None

    def _broker_cpu(self) -> float:
        if self.broker is None:
            return float("nan")
        t = self.broker.cpu_times()
        return float(t.user + t.system)

    def run(self, work: Callable[[], int]) -> dict[str, float]:
        wall, cpu, broker = time.perf_counter(), time.process_time(), self._broker_cpu()
        n = work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        broker = self._broker_cpu() - broker
        return {"rate": n / wall, "cpu_us": cpu / n * 1e6, "broker_us": broker / n * 1e6}


def _queue(name: str, quorum: bool) -> Queue:
    args = {"x-queue-type": "quorum"} if quorum else {}
    return Queue(name, Exchange(EXCHANGE, type="topic", durable=True), routing_key=name,
                 durable=True, queue_arguments=args)


def publish(url: str, publisher_cls: type[ConfirmingPublisher], n: int) -> int:
    queue = _queue(f"bench.io.pub.{uuid.uuid4().hex[:6]}", quorum=True)
    with Connection(url) as conn:
        queue(conn.channel()).declare()
    publisher = publisher_cls(url)
    sent = 0
    try:
        for start in range(0, n, BATCH):
            batch = [OutgoingMessage(f"m-{i}", EXCHANGE, queue.name, "bench", BODY)
                     for i in range(start, min(n, start + BATCH))]
            result = publisher.publish_batch(batch)
            if result.failed:
                raise RuntimeError(f"publish failed: {next(iter(result.failed.values()))}")
            sent += len(result.confirmed)
    finally:
        publisher.close()
        with Connection(url) as conn:
            queue(conn.channel()).delete()
    return sent


def fill(url: str, n: int) -> Queue:
    queue = _queue(f"bench.io.con.{uuid.uuid4().hex[:6]}", quorum=True)
    with Connection(url) as conn:
        queue(conn.channel()).declare()
    publish_into(url, queue, n)
    return queue


def publish_into(url: str, queue: Queue, n: int) -> None:
    publisher = ConfirmingPublisher(url)
    try:
        for start in range(0, n, BATCH):
            publisher.publish_batch([OutgoingMessage(f"c-{i}", EXCHANGE, queue.name, "bench",
                                                     BODY)
                                     for i in range(start, min(n, start + BATCH))])
    finally:
        publisher.close()


def consume(url: str, queue: Queue, n: int) -> int:
    got = 0
    with Connection(url) as conn:
        def on_message(message: Any) -> None:
            nonlocal got
            got += 1
            if got % BATCH == 0 or got == n:
                message.ack(multiple=True)

        consumer = Consumer(conn, [queue], on_message=on_message, prefetch_count=3 * BATCH)
        with consumer:
            while got < n:
                conn.drain_events(timeout=10)
    return got


def with_reads(read_ahead: bool) -> None:
    TCPTransport._setup_transport = (  # type: ignore[method-assign]
        amqp_reads._setup_with_read_ahead if read_ahead else amqp_reads._original_setup)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    meter = Meter()
    n = args.messages
    results: dict[str, list[dict[str, float]]] = {}
    print(f"AMQP socket I/O: {n} messages of {len(BODY)} bytes a run, {args.rounds} rounds, "
          f"{psutil.cpu_count()} CPUs; broker CPU "
          f"{'measured' if meter.broker else 'not measured (no single beam.smp process)'}")
    with vhost() as url:
        for _ in range(args.rounds):
            with_reads(False)  # the publishing side is compared on its own
            for label, cls in (("publish, one write per message (py-amqp)", UncorkedPublisher),
                               ("publish, one write per batch (CorkedWriter)",
                                ConfirmingPublisher)):
                results.setdefault(label, []).append(meter.run(lambda c=cls: publish(url, c, n)))
            for label, ahead in (("consume, exact-size reads (py-amqp)", False),
                                 ("consume, read-ahead (amqp_reads)", True)):
                queue = fill(url, n)
                with_reads(ahead)
                results.setdefault(label, []).append(
                    meter.run(lambda q=queue: consume(url, q, n)))
                with_reads(False)
                with Connection(url) as conn:
                    queue(conn.channel()).delete()
    medians = {label: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
               for label, runs in results.items()}
    print(f"\n    {'':46} {'msg/s':>8} {'CPU us/msg':>11} {'broker us/msg':>14}")
    for label, m in medians.items():
        print(f"    {label:46} {m['rate']:>8.0f} {m['cpu_us']:>11.1f} {m['broker_us']:>14.1f}")
    labels = list(medians)
    for base, new in ((labels[0], labels[1]), (labels[2], labels[3])):
        a, b = medians[base], medians[new]
        print(f"    {new.split(',')[0]}: {b['rate'] / a['rate']:.2f}x the messages/s, "
              f"CPU per message x{b['cpu_us'] / a['cpu_us']:.2f} here and "
              f"x{b['broker_us'] / a['broker_us']:.2f} in the broker")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
