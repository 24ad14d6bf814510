"""Bookkeeping shared by the caller's thread and the publisher's I/O thread."""

from __future__ import annotations

import itertools
import threading

from .messages import FailedMessage, FailureKind, OutboundMessage, PublishError

_ids = itertools.count()


class Tracker:
    """Counts the outcomes of a group of messages and lets a caller wait for all of them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._open: dict[int, OutboundMessage] = {}
        self._abandoned = False
        self.confirmed = 0
        self.failed: list[FailedMessage] = []

    def add(self, message: OutboundMessage) -> Entry:
        entry = Entry(message, self)
        with self._cond:
            self._open[entry.key] = message
        return entry

    def settle(self, entry: Entry, failure: tuple[FailureKind, str] | None) -> None:
        with self._cond:
            if self._open.pop(entry.key, None) is None or self._abandoned:
                return
            if failure is None:
                self.confirmed += 1
            else:
                self.failed.append(FailedMessage(entry.message, *failure))
            if not self._open:
                self._cond.notify_all()

    def wait(self, timeout: float) -> None:
        """Returns once every message is settled; raises PublishError if any was not confirmed.
        Messages still open after `timeout` count as unconfirmed (they may yet arrive: the
        consumer's dedup on message_id makes re-publishing them harmless)."""
        with self._cond:
            self._cond.wait_for(lambda: not self._open, timeout)
            for message in self._open.values():
                reason = f"no confirm from the broker within {timeout:g}s"
                self.failed.append(FailedMessage(message, "unconfirmed", reason))
            self._open.clear()
            self._abandoned = True
            if self.failed:
                raise PublishError(list(self.failed), self.confirmed)


class Entry:
    __slots__ = ("key", "message", "settled", "tracker")

    def __init__(self, message: OutboundMessage, tracker: Tracker) -> None:
        self.key = next(_ids)
        self.message = message
        self.tracker = tracker
        self.settled = False
