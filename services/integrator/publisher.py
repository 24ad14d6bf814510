"""InboundPublisher: sends dossier messages to `parpulse.inbound` with publisher confirms.

The at-least-once contract: a message counts as delivered only once `flush()` or
`publish_many()` has returned without raising. `publish_native` & co. return as soon as the
message is handed to the connection; a crash before the next `flush()` may lose it. On
`PublishError`, re-publish the listed messages (they keep their message ids): the dossiers
service applies a message id once, so a duplicate is harmless.

Usable from plain threads and under eventlet monkey-patching (the I/O thread becomes a green
thread). One publisher may be shared by several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import pika

from services.contracts.inbound import NativeDossierEvent

from .link import Link
from .messages import (
    OutboundMessage,
    PublishError,
    dvcqg_progress_message,
    dvcqg_sync_message,
    native_message,
    new_message_id,
)
from .tracking import Entry, Tracker

_CHUNK = 16


class InboundPublisher:
    """`batch_size` is the pipeline window: at most that many messages await a confirm at once;
    publishing blocks (up to `confirm_timeout`) while the window is full."""

    def __init__(
        self,
        amqp_url: str,
        exchange: str = "parpulse.inbound",
        batch_size: int = 200,
        confirm_timeout: float = 30.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._params = pika.URLParameters(amqp_url)
        self._params.client_properties = {"connection_name": "parpulse-integrator"}
        self.exchange = exchange
        self.confirm_timeout = confirm_timeout
        self._window = threading.Semaphore(batch_size)
        self._link_lock = threading.Lock()
        self._link: Link | None = None
        self._pending_lock = threading.Lock()
        self._pending = Tracker()
        self._closed = False

    def __enter__(self) -> InboundPublisher:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.flush()
        finally:
            self.close()

    def open(self) -> None:
        """Connects and declares the exchange now rather than on the first publish."""
        self._ensure_link()

    def close(self) -> None:
        """Closes the connection; messages not yet confirmed are not delivered."""
        with self._link_lock:
            self._closed = True
            link, self._link = self._link, None
        if link is not None:
            link.close(self.confirm_timeout)

    def publish_native(
        self, event: NativeDossierEvent | Mapping[str, Any], message_id: str | None = None
    ) -> str:
        return self.publish(native_message(event, message_id))

    def publish_dvcqg_sync(
        self, body: Mapping[str, Any], unit_code: str | None = None, message_id: str | None = None
    ) -> str:
        return self.publish(dvcqg_sync_message(body, unit_code, message_id))

    def publish_dvcqg_progress(
        self, body: Mapping[str, Any], unit_code: str | None = None, message_id: str | None = None
    ) -> str:
        return self.publish(dvcqg_progress_message(body, unit_code, message_id))

    def publish_raw(
        self,
        body: bytes,
        fmt: str,
        routing_key: str,
        message_id: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """Sends the bytes unchecked (e.g. to exercise the consumer's quarantine)."""
        mid = message_id or new_message_id()
        return self.publish(OutboundMessage(body, fmt, routing_key, mid, headers or {}))

    def publish(self, message: OutboundMessage) -> str:
        """Hands one message over; the next `flush()` reports its outcome. Returns its id."""
        self._send([message], None)
        return message.message_id

    def flush(self) -> int:
        """Waits for every message handed over by `publish*` since the last flush; returns how
        many were confirmed, or raises PublishError listing the others."""
        with self._pending_lock:
            tracker, self._pending = self._pending, Tracker()
        tracker.wait(self.confirm_timeout)
        return tracker.confirmed

    def publish_many(self, messages: Iterable[OutboundMessage]) -> int:
        """Publishes all, pipelined, and returns once every one is confirmed (the count), or
        raises PublishError listing the returned, nacked and unconfirmed ones."""
        tracker = Tracker()
        self._send(messages, tracker)
        tracker.wait(self.confirm_timeout)
        return tracker.confirmed

    def _send(self, messages: Iterable[OutboundMessage], tracker: Tracker | None) -> None:
        chunk: list[Entry] = []
        for message in messages:
            if not self._window.acquire(blocking=False):
                self._submit(chunk)
                chunk = []
                if not self._window.acquire(timeout=self.confirm_timeout):
                    entry = self._track(message, tracker)
                    entry.settled = True
                    reason = f"no free slot within {self.confirm_timeout:g}s (confirms stalled)"
                    entry.tracker.settle(entry, ("unconfirmed", reason))
                    continue
            chunk.append(self._track(message, tracker))
            if len(chunk) >= _CHUNK:  # keep the I/O thread busy while the caller serialises
                self._submit(chunk)
                chunk = []
        self._submit(chunk)

    def _track(self, message: OutboundMessage, tracker: Tracker | None) -> Entry:
        if tracker is not None:
            return tracker.add(message)
        with self._pending_lock:  # so a concurrent flush() never misses it
            return self._pending.add(message)

    def _submit(self, chunk: list[Entry]) -> None:
        if not chunk:
            return
        try:
            link = self._ensure_link()
        except (ConnectionError, RuntimeError) as exc:
            for entry in chunk:
                entry.settled = True
                self._window.release()
                entry.tracker.settle(entry, ("unconfirmed", str(exc)))
            return
        link.submit(chunk)

    def _ensure_link(self) -> Link:
        """A new connection after a lost one; messages on the old one were reported lost."""
        with self._link_lock:
            if self._closed:
                raise RuntimeError("publisher is closed")
            if self._link is None or not self._link.alive:
                link = Link(self._params, self.exchange, self._window.release)
                link.start(self.confirm_timeout)
                self._link = link
            return self._link


__all__ = ["InboundPublisher", "OutboundMessage", "PublishError"]
