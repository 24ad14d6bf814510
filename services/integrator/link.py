"""One pika SelectConnection driven by its own thread.

pika's BlockingChannel waits for the broker's confirm after every basic_publish, one round trip
per message. Here the I/O thread publishes whatever callers queue and settles messages as acks
arrive (one ack may cover many messages), so confirms are pipelined. Every pika call happens on
the I/O thread; callers only touch the queue and ask the ioloop to drain it (its one thread-safe
method). Under eventlet the thread is a green thread and pika selects with the green select().
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

import pika
from pika.adapters.select_connection import SelectConnection
from pika.channel import Channel
from pika.frame import Method

from .messages import FailureKind
from .tracking import Entry

log = logging.getLogger(__name__)


class Link:
    def __init__(
        self, params: pika.URLParameters, exchange: str, on_settled: Callable[[], None]
    ) -> None:
        self._params = params
        self._exchange = exchange
        self._on_settled = on_settled  # frees a slot in the publisher's window
        self._lock = threading.Lock()
        self._queue: deque[Entry] = deque()
        self._poked = False
        self._dead = False
        self._ready = threading.Event()
        self._settled_down = threading.Event()  # ready, or dead: start() waits for either
        self.failure: str | None = None
        self._conn: SelectConnection | None = None
        self._channel: Channel | None = None
        self._tag = 0
        self._unconfirmed: dict[int, Entry] = {}
        self._returned: Counter[str] = Counter()
        self._return_reason: dict[str, str] = {}
        self._thread = threading.Thread(target=self._run, name="parpulse-publisher-io")
        self._thread.daemon = True

    @property
    def alive(self) -> bool:
        return not self._dead

    def start(self, timeout: float) -> None:
        self._thread.start()
        self._settled_down.wait(timeout)
        if not self._ready.is_set():
            self.failure = self.failure or f"broker not ready within {timeout:g}s"
            self.close(timeout)
            raise ConnectionError(self.failure)

    def submit(self, entries: list[Entry]) -> None:
        with self._lock:
            dead = self._dead
            if not dead:
                self._queue.extend(entries)
                poke, self._poked = not self._poked, True
        if dead:
            for entry in entries:
                self._settle(entry, ("unconfirmed", f"connection lost: {self.failure}"))
        elif poke and self._conn is not None:
            try:
                self._conn.ioloop.add_callback_threadsafe(self._drain)
            except Exception:  # ioloop already gone: the I/O thread's exit settles the queue
                log.debug("could not wake the publisher I/O thread", exc_info=True)

    def close(self, timeout: float) -> None:
        with self._lock:
            conn = None if self._dead else self._conn
        if conn is not None:
            conn.ioloop.add_callback_threadsafe(self._close_connection)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # Everything below runs on the I/O thread.

    def _run(self) -> None:
        try:
            self._conn = SelectConnection(
                self._params,
                on_open_callback=lambda conn: conn.channel(on_open_callback=self._on_channel),
                on_open_error_callback=self._on_open_error,
                on_close_callback=self._on_connection_closed,
            )
            self._conn.ioloop.start()
        except Exception as exc:  # a crash must still settle every message
            log.exception("publisher I/O thread failed")
            self.failure = self.failure or f"I/O thread failed: {exc!r}"
        finally:
            with self._lock:
                self._dead = True
                left = list(self._queue) + list(self._unconfirmed.values())
                self._queue.clear()
                self._unconfirmed.clear()
            for entry in left:
                self._settle(entry, ("unconfirmed", f"connection lost: {self.failure}"))
            self._settled_down.set()

    def _on_open_error(self, conn: SelectConnection, error: Any) -> None:
        self.failure = f"cannot connect: {error!r}"
        conn.ioloop.stop()

    def _on_connection_closed(self, conn: SelectConnection, reason: Any) -> None:
        self.failure = self.failure or f"connection closed: {reason!r}"
        conn.ioloop.stop()

    def _close_connection(self) -> None:
        self.failure = self.failure or "publisher closed"
        if self._conn is not None and not (self._conn.is_closing or self._conn.is_closed):
            self._conn.close()

    def _on_channel(self, channel: Channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame: Method) -> None:
        assert self._channel is not None
        self._channel.exchange_declare(
            self._exchange, exchange_type="topic", durable=True, callback=self._on_declared
        )

    def _on_declared(self, _frame: Method) -> None:
        self._ready.set()
        self._settled_down.set()
        self._drain()

    def _on_channel_closed(self, _channel: Channel, reason: Any) -> None:
        self.failure = self.failure or f"channel closed: {reason!r}"
        self._close_connection()

    def _drain(self) -> None:
        with self._lock:
            self._poked = False
            batch = list(self._queue)
            self._queue.clear()
        channel = self._channel
        for entry in batch:
            message = entry.message
            try:
                if channel is None:
                    raise ConnectionError("no channel")
                channel.basic_publish(
                    self._exchange, message.routing_key, message.body,
                    message.properties(), mandatory=True,
                )
            except Exception as exc:
                self._settle(entry, ("unconfirmed", f"publish failed: {exc!r}"))
                continue
            self._tag += 1
            self._unconfirmed[self._tag] = entry

    def _on_return(self, _ch: Channel, method: Any, props: Any, _body: bytes) -> None:
        # Basic.Return precedes the Basic.Ack of the same message and carries no delivery tag.
        self._returned[props.message_id] += 1
        self._return_reason[props.message_id] = f"{method.reply_code} {method.reply_text}"

    def _on_confirm(self, frame: Method) -> None:
        method: Any = frame.method
        ack = isinstance(method, pika.spec.Basic.Ack)
        tags = [t for t in self._unconfirmed if t <= method.delivery_tag] if method.multiple else [
            method.delivery_tag
        ]
        for tag in tags:
            entry = self._unconfirmed.pop(tag, None)
            if entry is None:
                continue
            mid = entry.message.message_id
            failure: tuple[FailureKind, str] | None = None
            if not ack:
                failure = ("nacked", "nacked by the broker")
            elif self._returned[mid] > 0:
                self._returned[mid] -= 1
                reason = self._return_reason[mid]
                if not self._returned[mid]:
                    del self._returned[mid], self._return_reason[mid]
                failure = ("returned", f"returned as unroutable: {reason}")
            self._settle(entry, failure)

    def _settle(self, entry: Entry, failure: tuple[FailureKind, str] | None) -> None:
        if entry.settled:
            return
        entry.settled = True
        self._on_settled()
        entry.tracker.settle(entry, failure)
