"""A batch of messages commits whole or not at all; when it fails, find the message to blame.

When a batch fails because of one message (a poison body, a unique-key race with another replica
on a new row), the rest must not pay for it: the batch is split in halves, in order, and each
half tried again in a transaction of its own, down to the single message that fails; only that
one goes back to the queue. When the database or the network itself fails, splitting would only
multiply the failures: the whole batch goes back at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Failures of a connection or a server, not of a message.
NOT_THE_MESSAGE = (OperationalError, InterfaceError, OSError, TimeoutError)


def isolate(items: Sequence[T], attempt: Callable[[list[T]], Sequence[str]],
            ) -> list[str | BaseException]:
    """`attempt(items)` (one transaction, one outcome per item), split in halves on failure.
    Returns one outcome per item: its string, or the exception that failed it alone."""
    if not items:
        return []
    try:
        outcomes = list(attempt(list(items)))
    except Exception as exc:
        return split_after(items, exc, attempt)
    if len(outcomes) != len(items):
        error = RuntimeError(f"handler returned {len(outcomes)} outcomes for {len(items)}")
        return [error] * len(items)
    return list(outcomes)


def split_after(items: Sequence[T], exc: BaseException,
                attempt: Callable[[list[T]], Sequence[str]]) -> list[str | BaseException]:
    """What `isolate` does once `attempt(items)` raised `exc`."""
    if len(items) == 1 or isinstance(exc, NOT_THE_MESSAGE):
        return [exc] * len(items)
    log.info("a batch of %d failed (%s: %s); retrying it in halves", len(items),
             type(exc).__name__, exc)
    half = len(items) // 2
    return isolate(items[:half], attempt) + isolate(items[half:], attempt)


def first_seen(ids: Sequence[str]) -> list[bool]:
    """For each id, whether it is its first occurrence in `ids` (a publisher may send the same
    message twice in a row, so both copies can land in one batch)."""
    seen: set[str] = set()
    out = []
    for message_id in ids:
        out.append(message_id not in seen)
        seen.add(message_id)
    return out
