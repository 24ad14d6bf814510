"""The batching consumer on a real broker: what waits is taken in batches, each message is
committed once and acked after its batch, and a poison message is isolated from its batch
and parked in the DLQ while the rest are processed."""

from __future__ import annotations

from typing import Any

import eventlet
from kombu import Producer
from kombu.common import maybe_declare

from services.common.entrypoints import InboundMessage, reliable_consume
from services.common.topology import (
    base_entities,
    dead_letter_queue,
    inbound_exchange,
    quorum_queue,
)
from tests.support import broker
from tests.support.broker import publishing_connection
from tests.support.services import running, service_config, wait_for

QUEUE = "test.batches"


class Recorder:
    name = "recorder"
    committed: list[list[str]] = []  # the message ids of every batch that returned
    attempts: list[int] = []  # the size of every call, failed ones included
    first_call_pause = 0.0

    @reliable_consume(QUEUE, inbound_exchange, ["#"], service="test")
    def on_messages(self, messages: list[InboundMessage]) -> list[str]:
        Recorder.attempts.append(len(messages))
        if len(Recorder.attempts) == 1:
            # Keeps the only batch worker busy while the broker delivers the rest.
            eventlet.sleep(Recorder.first_call_pause)
        if any(b"poison" in m.body for m in messages):
            raise RuntimeError("a message this handler cannot take")
        Recorder.committed.append([m.message_id or "" for m in messages])
        return ["processed"] * len(messages)


def _publish_waiting(uri: str, bodies: list[bytes], limit: int) -> None:
    """Declares the queue as the consumer will and fills it before any consumer exists."""
    with publishing_connection(uri) as conn:
        channel = conn.channel()
        for entity in [*base_entities(), dead_letter_queue(QUEUE),
                       quorum_queue(QUEUE, inbound_exchange, ["#"], limit)]:
            maybe_declare(entity, channel)
        producer = Producer(channel, exchange=inbound_exchange)
        for i, body in enumerate(bodies):
            producer.publish(body, routing_key="test", message_id=f"m-{i:03d}",
                             delivery_mode=2, content_type="application/json")


def _settled(uri: str, queue: str) -> dict[str, Any]:
    info = broker.queue_info(uri, queue)
    return info if info.get("messages") == 0 and info.get("messages_unacknowledged") == 0 \
        else {}


def test_waiting_messages_are_taken_in_batches_and_each_committed_once(vhost: str,
                                                                      tmp_path: Any) -> None:
    Recorder.committed, Recorder.attempts, Recorder.first_call_pause = [], [], 0.5
    _publish_waiting(vhost, [b'{"n": %d}' % i for i in range(120)], limit=3)
    cfg = service_config(vhost, f"sqlite:///{tmp_path}/unused.db", BATCH_SIZE=50,
                         BATCH_WORKERS=1)
    with running(Recorder, cfg):
        wait_for(lambda: sum(map(len, Recorder.committed)) >= 120, what="every message")
        wait_for(lambda: _settled(vhost, QUEUE), what="the queue empty and nothing unacked")
    ids = [m for batch in Recorder.committed for m in batch]
    assert sorted(ids) == [f"m-{i:03d}" for i in range(120)]  # each exactly once
    # While the first batch was handled the rest arrived (up to the prefetch, 2 x 50): the
    # next batch took all that waited, up to BATCH_SIZE.
    assert len(Recorder.committed[0]) <= 50 and len(Recorder.committed[1]) == 50
    assert broker.queue_info(vhost, f"{QUEUE}.dlq").get("messages") == 0


def test_a_poison_message_is_isolated_from_its_batch_and_dead_lettered(vhost: str,
                                                                       tmp_path: Any) -> None:
    Recorder.committed, Recorder.attempts, Recorder.first_call_pause = [], [], 0.0
    bodies = [b'{"n": %d}' % i for i in range(40)]
    bodies[17] = b'{"poison": true}'
    _publish_waiting(vhost, bodies, limit=1)
    cfg = service_config(vhost, f"sqlite:///{tmp_path}/unused.db", BATCH_SIZE=40,
                         BATCH_WORKERS=1, DELIVERY_LIMIT=1)
    with running(Recorder, cfg):
        wait_for(lambda: broker.queue_info(vhost, f"{QUEUE}.dlq").get("messages") == 1,
                 what="the poison message in the DLQ")
        wait_for(lambda: _settled(vhost, QUEUE), what="the queue empty and nothing unacked")
    ids = sorted(m for batch in Recorder.committed for m in batch)
    assert ids == [f"m-{i:03d}" for i in range(40) if i != 17]  # each exactly once
    parked = broker.get_messages(vhost, f"{QUEUE}.dlq")
    assert [m["properties"]["message_id"] for m in parked] == ["m-017"]
