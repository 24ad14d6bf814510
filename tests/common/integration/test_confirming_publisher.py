"""The relays' publisher on the real broker: a batch leaves in one write and every message is
confirmed, routed in order with its id, type and headers, or reported failed."""

from __future__ import annotations

import json

import amqp
from kombu import Connection, Exchange, Queue

from services.common.publisher import ConfirmingPublisher, OutgoingMessage, connection_params


def _messages(n: int) -> list[OutgoingMessage]:
    return [OutgoingMessage(message_id=f"m-{i:04d}", exchange="pp.test", routing_key="t.ok",
                            message_type="dossier.accepted",
                            body=json.dumps({"i": i, "pad": "x" * 600}).encode(),
                            headers={"correlation_id": f"c-{i}"}) for i in range(n)]


def test_a_batch_is_confirmed_and_routed_in_order_and_unroutable_ones_fail(vhost: str) -> None:
    queue = Queue("pp.test.q", Exchange("pp.test", type="topic", durable=True),
                  routing_key="t.ok", durable=True, queue_arguments={"x-queue-type": "quorum"})
    with Connection(vhost) as conn:
        queue(conn.channel()).declare()
    batch = _messages(300)
    unroutable = OutgoingMessage("lost-1", "pp.test", "t.nobody", "dossier.accepted", b"{}")
    batch.insert(150, unroutable)
    publisher = ConfirmingPublisher(vhost, confirm_timeout=10)
    try:
        result = publisher.publish_batch(batch)
        again = publisher.publish_batch(_messages(2))  # the same connection serves the next
    finally:
        publisher.close()
    assert result.confirmed == [m.message_id for m in batch if m is not unroutable]
    assert list(result.failed) == ["lost-1"]
    assert "unroutable" in result.failed["lost-1"]
    assert again.confirmed == ["m-0000", "m-0001"] and not again.failed

    conn = amqp.Connection(**connection_params(vhost))
    conn.connect()
    try:
        channel = conn.channel()
        got = []
        while (message := channel.basic_get("pp.test.q", no_ack=True)) is not None:
            got.append(message)
    finally:
        conn.close()
    assert [m.properties["message_id"] for m in got] == \
        [m.message_id for m in batch if m is not unroutable] + ["m-0000", "m-0001"]
    first = got[0]
    assert first.properties["type"] == "dossier.accepted"
    assert first.properties["application_headers"]["correlation_id"] == "c-0"
    assert json.loads(first.body)["i"] == 0
