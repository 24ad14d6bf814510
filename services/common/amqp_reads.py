"""Read-ahead for py-amqp's TCP transport.

py-amqp reads exactly the bytes it needs next: a frame's 7-byte header, its payload, its end
octet. A message is three frames, so a consumer makes about nine socket reads per message, each
a system call and, under eventlet, a trip through the green socket. Reading what the broker has
already sent (up to 64 KiB) and serving those small reads from it makes that one read per
batch of messages. The transport's own logic is unchanged: only the function it calls to
receive (`_quick_recv`) is given a buffer in front of the socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amqp.transport import TCPTransport

READ_AHEAD = 65536


class ReadAhead:
    """`recv(n)` as a socket's: at most `n` bytes, at least one, b"" when the peer closed."""

    def __init__(self, recv: Callable[[int], bytes], size: int = READ_AHEAD) -> None:
        self._recv = recv
        self._size = size
        self._data = b""
        self._pos = 0

    def recv(self, n: int) -> bytes:
        available = len(self._data) - self._pos
        if available <= 0:
            data = self._recv(max(n, self._size))
            if len(data) <= n:
                return bytes(data)
            self._data, self._pos, available = bytes(data), 0, len(data)
        take = min(n, available)
        chunk = self._data[self._pos:self._pos + take]
        self._pos += take
        if self._pos >= len(self._data):
            self._data, self._pos = b"", 0
        return chunk


_original_setup = TCPTransport._setup_transport


def _setup_with_read_ahead(self: Any) -> None:
    _original_setup(self)
    self._quick_recv = ReadAhead(self.sock.recv).recv


def install() -> None:
    """Every TCP transport py-amqp opens from now on reads ahead (idempotent)."""
    TCPTransport._setup_transport = _setup_with_read_ahead
