"""Acks in delivery order, many at a time.

A quorum queue turns every basic.ack frame into a Raft command, so acking a batch message by
message costs the broker as much as the messages themselves. `AckWindow` keeps one channel's
deliveries in order and, once a prefix of them is settled, acks the whole prefix with a single
`multiple` ack. A message is acked only after its own batch committed; a later batch that
commits first waits (unacked, so redelivered if the connection dies) until the earlier one
settles. Rejected messages are rejected at once and simply leave the window: a `multiple` ack
never covers a delivery that is no longer outstanding.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import amqp.exceptions

log = logging.getLogger(__name__)

# A dead connection shows as one of these when a settle is attempted on its channel.
SETTLE_ERRORS = (OSError, amqp.exceptions.ConnectionError, amqp.exceptions.ChannelError,
                 amqp.exceptions.RecoverableConnectionError)


class AckWindow:
    """The unsettled deliveries of one channel, oldest first."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self._order: deque[int] = deque()
        self._acked: set[int] = set()  # committed, ack not sent yet
        self._rejected: set[int] = set()  # already rejected on their own

    def __len__(self) -> int:
        return len(self._order)

    def delivered(self, tag: int) -> None:
        self._order.append(tag)

    def ack(self, tags: list[int]) -> None:
        self._acked.update(tags)
        self._advance()

    def reject(self, message: Any) -> None:
        """Back to the queue (the quorum queue counts the delivery): sent now, on its own."""
        _settle(message.requeue, message)
        self._rejected.add(message.delivery_tag)
        self._advance()

    def _advance(self) -> None:
        # The tag of a `multiple` ack must itself be outstanding, or the broker closes the
        # channel ("unknown delivery tag"): only an acked tag can end the prefix.
        highest = 0
        while self._order:
            tag = self._order[0]
            if tag in self._acked:
                self._acked.discard(tag)
                highest = tag
            elif tag in self._rejected:
                self._rejected.discard(tag)
            else:
                break
            self._order.popleft()
        if highest and self.channel.connection:  # else the broker has taken them back
            try:
                self.channel.basic_ack(highest, multiple=True)
            except SETTLE_ERRORS as exc:
                log.warning("could not ack deliveries up to %d: %s; the broker will redeliver "
                            "them and the idempotent handlers make that a no-op", highest, exc)


def _settle(action: Any, message: Any) -> None:
    if not message.channel.connection:
        return  # the broker took it back when the connection closed
    try:
        action()
    except SETTLE_ERRORS as exc:
        log.warning("could not settle message %s: %s; the broker will redeliver it",
                    message.properties.get("message_id"), exc)
