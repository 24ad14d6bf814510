"""Exchanges and queues: declared by every service at start so no event is ever published
into a void (nameko drops events published before a handler queue exists)."""

from __future__ import annotations

from kombu import Exchange, Queue

INBOUND_EXCHANGE = "parpulse.inbound"
EVENTS_EXCHANGE = "parpulse.events"
DEAD_LETTER_EXCHANGE = "parpulse.dlx"
UNROUTED_EXCHANGE = "parpulse.unrouted"
UNROUTED_QUEUE = "parpulse.unrouted"

DEFAULT_DELIVERY_LIMIT = 5

# Every consumer queue of the platform; their dead letters are also copied to
# DEAD_LETTER_TAP so operators are alerted while the DLQ keeps its copy for replay.
CONSUMER_QUEUES = (
    "dossiers.inbound",
    "scoring.dossier-events",
    "notifications.dossier-events",
    "gateway.events",
    "gateway.live",
)
DEAD_LETTER_TAP = "notifications.dead-letters"

inbound_exchange = Exchange(INBOUND_EXCHANGE, type="topic", durable=True)
# Events nobody subscribes to land in parpulse.unrouted instead of being dropped, so a publish
# with `mandatory` only comes back when the topology itself is missing.
events_exchange = Exchange(
    EVENTS_EXCHANGE,
    type="topic",
    durable=True,
    arguments={"alternate-exchange": UNROUTED_EXCHANGE},
)
dead_letter_exchange = Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)
unrouted_exchange = Exchange(UNROUTED_EXCHANGE, type="fanout", durable=True)


def quorum_queue(
    name: str,
    exchange: Exchange,
    routing_keys: list[str],
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
) -> Queue:
    """A quorum queue that dead-letters to `<name>.dlq` after `delivery_limit` redeliveries."""
    from kombu import binding

    return Queue(
        name,
        bindings=[binding(exchange, routing_key=key) for key in routing_keys],
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": name,
        },
    )


def dead_letter_queue(name: str) -> Queue:
    return Queue(
        f"{name}.dlq",
        exchange=dead_letter_exchange,
        routing_key=name,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def unrouted_queue() -> Queue:
    return Queue(
        UNROUTED_QUEUE,
        exchange=unrouted_exchange,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def base_entities() -> list[Exchange | Queue]:
    """Everything every service needs before it publishes or consumes."""
    return [
        inbound_exchange,
        unrouted_exchange,
        events_exchange,
        dead_letter_exchange,
        unrouted_queue(),
    ]
