"""The status machine: which TrangThaiHoSo may follow which, reordered deliveries included."""

from __future__ import annotations

import itertools

import pytest

from services.contracts.dossiers import Status
from services.dossiers.domain.status import (
    CLOSED,
    NAMES,
    NEXT,
    ORDER,
    PAUSING,
    TERMINAL,
    describe,
    is_known,
    reachable,
)

ALL = sorted(NEXT)


def test_the_machine_knows_exactly_the_contract_codes() -> None:
    assert ALL == [s.value for s in Status] == sorted(NAMES) == sorted(ORDER)
    assert not is_known(0) and not is_known(11) and is_known(5)
    assert describe(5) == "5 (supplement requested)"
    assert describe(42) == "42 (unknown)"


@pytest.mark.parametrize(("src", "dst"), [
    (1, 2), (1, 3), (1, 7),
    (2, 4), (2, 9), (4, 5), (5, 4), (6, 4), (8, 4), (4, 9), (9, 10),
    # Steps still on their way: 2 then 10 is a lifecycle with 4 and 9 missing.
    (2, 10), (1, 10), (5, 10), (1, 9), (8, 7),
])
def test_reachable_steps(src: int, dst: int) -> None:
    assert reachable(src, dst)


@pytest.mark.parametrize(("src", "dst"), [
    (10, 4), (10, 9), (10, 1), (3, 2), (3, 4), (7, 4), (7, 9), (7, 10),
    (2, 1), (4, 1), (9, 1), (4, 2), (9, 2),
    (9, 4), (9, 5), (9, 7), (2, 3), (4, 3),
])
def test_impossible_steps(src: int, dst: int) -> None:
    assert not reachable(src, dst)


def test_nothing_follows_a_terminal_status_but_itself() -> None:
    for src, dst in itertools.product(TERMINAL, ALL):
        assert reachable(src, dst) == (src == dst), (src, dst)


def test_nothing_goes_back_to_submitted() -> None:
    assert [s for s in ALL if reachable(s, 1)] == [1]


def test_a_repeat_is_not_a_step() -> None:
    assert all(reachable(s, s) for s in ALL)


def test_reachability_is_transitive() -> None:
    for a, b, c in itertools.product(ALL, repeat=3):
        if reachable(a, b) and reachable(b, c):
            assert reachable(a, c), (a, b, c)


def test_every_status_is_reachable_from_submission_and_leads_to_a_terminal() -> None:
    assert all(reachable(1, s) for s in ALL)
    for s in ALL:
        assert any(reachable(s, t) for t in TERMINAL), s


def test_pausing_statuses_are_open_and_closed_ones_are_final_or_decided() -> None:
    assert sorted(PAUSING) == [5, 6, 8]
    assert not PAUSING & CLOSED
    assert TERMINAL < CLOSED and sorted(CLOSED - TERMINAL) == [9]


def test_order_tie_break_follows_every_possible_step() -> None:
    # Reports stamped with the same instant are sorted by ORDER: whenever b can come after a but
    # a cannot come after b, a must sort first.
    for a, b in itertools.product(ALL, repeat=2):
        if a != b and reachable(a, b) and not reachable(b, a):
            assert ORDER[a] <= ORDER[b], (a, b)


def test_order_tie_break_puts_acceptance_before_processing_before_decision() -> None:
    same_instant = [10, 9, 5, 4, 2, 1]
    assert sorted(same_instant, key=ORDER.__getitem__) == [1, 2, 4, 5, 9, 10]
    # Pauses tie with each other (either can follow the other) and sit between 4 and 9.
    assert ORDER[5] == ORDER[6] == ORDER[8]
    assert ORDER[4] < ORDER[5] < ORDER[9]
