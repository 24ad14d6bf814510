"""The relay's batches leave in one write: CorkedWriter, between py-amqp's frames and the socket."""

from __future__ import annotations

from services.common.publisher import CorkedWriter


def test_frames_pass_straight_through_when_not_corked() -> None:
    written: list[bytes] = []
    writer = CorkedWriter(lambda data: written.append(bytes(data)))
    writer.write(b"one")
    writer.write(memoryview(b"two"))
    assert written == [b"one", b"two"]


def test_corked_frames_leave_in_one_write_in_order_as_copies() -> None:
    written: list[bytes] = []
    writer = CorkedWriter(lambda data: written.append(bytes(data)))
    shared = bytearray(b"aaa")  # py-amqp hands over a view of one buffer it reuses
    writer.cork()
    writer.write(memoryview(shared))
    shared[:] = b"bbb"
    writer.write(memoryview(shared))
    assert written == []
    writer.uncork()
    assert written == [b"aaabbb"]
    writer.write(b"after")
    assert written == [b"aaabbb", b"after"]


def test_uncorking_with_nothing_held_writes_nothing() -> None:
    written: list[bytes] = []
    writer = CorkedWriter(written.append)
    writer.uncork()
    writer.cork()
    writer.uncork()
    assert written == []
