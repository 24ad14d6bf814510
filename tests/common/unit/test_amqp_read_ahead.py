"""ReadAhead: py-amqp's small exact reads served from one larger socket read."""

from __future__ import annotations

import pytest

from services.common.amqp_reads import ReadAhead


class FakeSocket:
    """What the broker sent, delivered as the kernel would: at most the asked size per call."""

    def __init__(self, *chunks: bytes | BaseException) -> None:
        self.chunks = list(chunks)
        self.calls: list[int] = []

    def recv(self, n: int) -> bytes:
        self.calls.append(n)
        if not self.chunks:
            return b""
        head = self.chunks[0]
        if isinstance(head, BaseException):
            self.chunks.pop(0)
            raise head
        data, rest = head[:n], head[n:]
        if rest:
            self.chunks[0] = rest
        else:
            self.chunks.pop(0)
        return data


def test_small_reads_are_served_from_one_socket_read() -> None:
    sock = FakeSocket(b"HEADER7payload-of-frame\xce" * 3)
    reads = ReadAhead(sock.recv, size=1024)
    got = [reads.recv(n) for n in (7, 16, 1) * 3]
    assert got == [b"HEADER7", b"payload-of-frame", b"\xce"] * 3
    assert sock.calls == [1024]


def test_a_read_larger_than_the_buffer_goes_straight_to_the_socket() -> None:
    sock = FakeSocket(b"x" * 5000)
    reads = ReadAhead(sock.recv, size=1024)
    assert reads.recv(5000) == b"x" * 5000
    assert sock.calls == [5000]


def test_a_short_socket_read_returns_what_came_and_the_rest_is_read_later() -> None:
    sock = FakeSocket(b"abc", b"defgh")
    reads = ReadAhead(sock.recv, size=64)
    assert reads.recv(5) == b"abc"  # as a socket would: fewer bytes than asked
    assert reads.recv(2) == b"de"
    assert reads.recv(10) == b"fgh"
    assert sock.calls == [64, 64]


def test_a_closed_peer_reads_as_empty_and_a_timeout_loses_nothing_buffered() -> None:
    sock = FakeSocket(b"0123456789", TimeoutError("timed out"), b"tail")
    reads = ReadAhead(sock.recv, size=64)
    assert reads.recv(4) == b"0123"
    assert reads.recv(6) == b"456789"
    with pytest.raises(TimeoutError):
        reads.recv(4)
    assert reads.recv(4) == b"tail"
    assert reads.recv(4) == b""
