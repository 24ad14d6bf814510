import pytest

from services.scoring.domain.ranking import RankedEntry, rank, rank_changes
from services.scoring.domain.scheme import DEFAULT_BANDS


def test_competition_ranking_ties_share_a_rank_and_skip_the_next() -> None:
    ranked = rank([("D", 70.0), ("C", 84.996), ("B", 85.004), ("A", 90.0)])
    # 85.004 and 84.996 both show as 85.00: tied, listed by unit code.
    assert [(e.unit_code, e.rank) for e in ranked] == [("A", 1), ("B", 2), ("C", 2), ("D", 4)]
    assert ranked[2].score == 84.996  # the unrounded score is kept for display


def test_all_tied_and_order_is_independent_of_input_order() -> None:
    forward = rank([("U1", 50.0), ("U3", 50.0), ("U2", 50.0)])
    backward = rank([("U2", 50.0), ("U3", 50.0), ("U1", 50.0)])
    assert forward == backward
    assert [(e.unit_code, e.rank) for e in forward] == [("U1", 1), ("U2", 1), ("U3", 1)]


def test_units_without_score_are_listed_last_unranked() -> None:
    ranked = rank([("Z", None), ("A", None), ("M", 10.0)])
    assert [(e.unit_code, e.rank) for e in ranked] == [("M", 1), ("A", None), ("Z", None)]


def test_duplicate_unit_is_rejected() -> None:
    with pytest.raises(ValueError):
        rank([("A", 1.0), ("A", 2.0)])


def test_bands_are_attached_from_the_scheme_bands() -> None:
    ranked = rank([("A", 91.2), ("B", 79.999), ("C", 12.0)], DEFAULT_BANDS)
    assert [e.band.key if e.band else None for e in ranked] == ["excellent", "good", "weak"]
    assert rank([("A", 91.2)])[0].band is None


def test_rank_changes_positive_means_moved_up() -> None:
    previous = rank([("A", 90.0), ("B", 80.0), ("C", 70.0), ("E", None)])
    current = rank([("B", 95.0), ("A", 85.0), ("C", 70.0), ("D", 60.0), ("E", 50.0)])
    assert rank_changes(current, previous) == {"B": 1, "A": -1, "C": 0, "D": None, "E": None}


def test_rank_changes_with_ties_and_a_unit_losing_its_score() -> None:
    previous = [RankedEntry("A", 90.0, 1), RankedEntry("B", 80.0, 2), RankedEntry("C", 70.0, 3)]
    current = rank([("A", 80.0), ("B", 80.0), ("C", None)])
    assert rank_changes(current, previous) == {"A": 0, "B": 1, "C": None}
    assert rank_changes(current, []) == {"A": None, "B": None, "C": None}
