"""The consumer's bookkeeping without a broker: acks go out in delivery order, one `multiple`
ack per settled prefix; a failing batch is split until only the failing message is left."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from services.common.acks import AckWindow
from services.common.batch import first_seen, isolate


class FakeChannel:
    """Records what a py-amqp channel would send."""

    def __init__(self) -> None:
        self.connection: object | None = object()
        self.sent: list[tuple[str, int, bool]] = []

    def basic_ack(self, tag: int, multiple: bool = False) -> None:
        self.sent.append(("ack", tag, multiple))


class FakeMessage:
    def __init__(self, channel: FakeChannel, tag: int) -> None:
        self.channel, self.delivery_tag = channel, tag
        self.properties: dict[str, Any] = {"message_id": f"m{tag}"}

    def requeue(self) -> None:
        self.channel.sent.append(("reject", self.delivery_tag, False))


def window(tags: range) -> tuple[AckWindow, FakeChannel]:
    channel = FakeChannel()
    w = AckWindow(channel)
    for tag in tags:
        w.delivered(tag)
    return w, channel


def test_a_batch_is_acked_with_one_multiple_ack() -> None:
    w, channel = window(range(1, 6))
    w.ack([1, 2, 3, 4, 5])
    assert channel.sent == [("ack", 5, True)]
    assert len(w) == 0


def test_a_later_batch_waits_for_the_earlier_one() -> None:
    w, channel = window(range(1, 7))
    w.ack([4, 5, 6])  # committed first, but 1-3 are still being handled
    assert channel.sent == []
    w.ack([1, 2, 3])
    assert channel.sent == [("ack", 6, True)]


def test_a_rejected_message_leaves_the_window_and_never_ends_a_multiple_ack() -> None:
    w, channel = window(range(1, 5))
    w.reject(FakeMessage(channel, 3))
    w.ack([1, 2])
    assert channel.sent == [("reject", 3, False), ("ack", 2, True)]
    # 4 is still out: nothing more until it settles; then only 4 (3 is no longer outstanding).
    w.ack([4])
    assert channel.sent[-1] == ("ack", 4, True)
    assert len(w) == 0


def test_when_the_last_of_a_prefix_is_rejected_the_ack_stops_before_it() -> None:
    w, channel = window(range(1, 4))
    w.ack([1, 2])
    w.reject(FakeMessage(channel, 3))
    assert channel.sent == [("ack", 2, True), ("reject", 3, False)]


def test_nothing_is_sent_on_a_closed_channel() -> None:
    w, channel = window(range(1, 3))
    channel.connection = None  # the broker has taken the deliveries back
    w.ack([1, 2])
    w.reject(FakeMessage(channel, 9))
    assert channel.sent == []


def test_isolate_splits_a_failing_batch_down_to_the_message_to_blame() -> None:
    calls: list[list[int]] = []

    def attempt(items: list[int]) -> list[str]:
        calls.append(items)
        if 5 in items:
            raise IntegrityError("insert", {}, Exception("duplicate key"))
        return [f"ok {i}" for i in items]

    outcomes = isolate(list(range(8)), attempt)
    assert outcomes[:5] == ["ok 0", "ok 1", "ok 2", "ok 3", "ok 4"]
    assert isinstance(outcomes[5], IntegrityError)
    assert outcomes[6:] == ["ok 6", "ok 7"]
    # Halves, in order: never a message processed twice in a committed attempt.
    committed = [i for c in calls if 5 not in c for i in c]
    assert sorted(committed) == [0, 1, 2, 3, 4, 6, 7]


def test_isolate_does_not_split_when_the_database_is_down() -> None:
    calls = []

    def attempt(items: list[int]) -> list[str]:
        calls.append(items)
        raise OperationalError("select 1", {}, Exception("connection refused"))

    outcomes = isolate([1, 2, 3, 4], attempt)
    assert len(calls) == 1
    assert all(isinstance(o, OperationalError) for o in outcomes)


def test_isolate_refuses_a_handler_that_miscounts() -> None:
    outcomes = isolate([1, 2], lambda items: ["ok"])
    assert all(isinstance(o, RuntimeError) for o in outcomes)


@pytest.mark.parametrize(("ids", "expected"), [
    (["a", "b", "a", "c", "b"], [True, True, False, True, False]),
    ([], []),
])
def test_first_seen(ids: list[str], expected: list[bool]) -> None:
    assert first_seen(ids) == expected
