"""Read-ahead on a real broker connection: every message arrives whole and in order, through
the buffered reads the services install."""

from __future__ import annotations

from typing import Any

from kombu import Connection, Consumer, Exchange, Queue

from services.common import amqp_reads
from services.common.publisher import ConfirmingPublisher, OutgoingMessage


def test_consumed_through_read_ahead_every_message_is_whole_and_in_order(vhost: str) -> None:
    amqp_reads.install()
    queue = Queue("pp.ra", Exchange("pp.ra", type="topic", durable=True), routing_key="ra",
                  durable=True, queue_arguments={"x-queue-type": "quorum"})
    # Up to 29 KB, and every 500th of 200 KB: more than one read-ahead and than one frame.
    bodies = [f"{i:05d}:".encode() + b"z" * (200_000 if i % 500 == 499 else (i % 300) * 97)
              for i in range(1500)]
    with Connection(vhost) as conn:
        queue(conn.channel()).declare()
    publisher = ConfirmingPublisher(vhost)
    try:
        result = publisher.publish_batch([OutgoingMessage(f"m{i}", "pp.ra", "ra", "t", b)
                                          for i, b in enumerate(bodies)])
    finally:
        publisher.close()
    assert len(result.confirmed) == len(bodies)

    got: list[tuple[str, bytes]] = []
    with Connection(vhost) as conn:
        def on_message(message: Any) -> None:
            got.append((message.properties["message_id"], message.body))
            message.ack()

        with Consumer(conn, [queue], on_message=on_message, prefetch_count=500):
            transport = conn.connection.transport
            assert isinstance(transport._quick_recv.__self__, amqp_reads.ReadAhead)
            while len(got) < len(bodies):
                conn.drain_events(timeout=10)
    assert got == [(f"m{i}", b) for i, b in enumerate(bodies)]
