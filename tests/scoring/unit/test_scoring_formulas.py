"""Every formula against hand-computed cases, to two decimals."""

from pathlib import Path

import pytest

from services.scoring.domain.scheme import Group, Indicator, Scheme
from services.scoring.domain.scoring import (
    INPUT_NOT_REPORTED,
    NO_DENOMINATOR,
    NO_EXTERNAL_INPUT,
    points_for,
    score_unit,
)
from services.scoring.scheme_loader import load_scheme

QD766 = Path(__file__).resolve().parents[3] / "data" / "schemes" / "qd766.yaml"

# A (30): a1 online/received target 50% (20), a2 synced/received no target (10)
# B (20): b1 external rate target 80% (12), b2 100% - late% - complaint% target 90% (8)
SMALL = Scheme(
    "small", "nhỏ", "small",
    (Group("A", "A", "A", 30), Group("B", "B", "B", 20)),
    (
        Indicator("a1", "a1", "a1", "A", 20, target=0.5, numerator="online",
                  denominator="received", known="known_channel"),
        Indicator("a2", "a2", "a2", "A", 10, numerator="synced", denominator="received",
                  known="known_synced"),
        Indicator("b1", "b1", "b1", "B", 12, source="external", target=0.8),
        Indicator("b2", "b2", "b2", "B", 8, target=0.9, formula="complement", numerator="late",
                  denominator="progress_denominator", known="known_progress",
                  deduct=("complaint_rate",)),
    ),
)
COUNTERS = {"received": 10, "online": 7, "known_channel": 10, "synced": 3, "known_synced": 10,
            "progress_denominator": 8, "late": 1, "known_progress": 8}
EXTERNAL = {"b1": 0.6, "complaint_rate": 0.05}


def r2(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def test_points_for_caps_at_target_and_scales_without_target() -> None:
    assert points_for(12, 0.7, 0.5) == 12  # 12 × min(1, 1.4)
    assert r2(points_for(12, 0.2, 0.5)) == 4.80  # 12 × 0.4
    assert r2(points_for(6, 0.3, None)) == 1.80  # 6 × 0.3
    assert points_for(4, 0.8, 0.8) == 4  # exactly on target


def test_full_scorecard_hand_computed() -> None:
    card = score_unit(SMALL, COUNTERS, EXTERNAL)
    a1, a2, b1, b2 = (card.line(k) for k in ("a1", "a2", "b1", "b2"))
    assert (a1.numerator, a1.denominator, a1.rate, a1.points) == (7, 10, 0.7, 20.0)  # capped
    assert (r2(a2.rate), r2(a2.points)) == (0.30, 3.00)  # 10 × 0.3, no target
    assert (b1.rate, r2(b1.points), b1.submitted) == (0.6, 9.00, 0.6)  # 12 × 0.75
    # 1 − 1/8 − 0.05 = 0.825; 8 × 0.825 / 0.9 = 7.333
    assert (round(b2.rate or 0, 3), r2(b2.points)) == (0.825, 7.33)
    assert (b2.numerator, b2.denominator, dict(b2.deductions)) == (1, 8, {"complaint_rate": 0.05})
    assert [(g.key, r2(g.points), g.measured_max) for g in card.groups] == [
        ("A", 23.00, 30), ("B", 16.33, 20)]
    assert (r2(card.total), card.measured_max, card.max_points) == (39.33, 50, 50)
    assert r2(card.score_100) == 78.67  # 39.333 / 50 × 100
    assert card.band is not None and card.band.key == "fair"
    assert card.not_measured == ()


def test_rate_below_target() -> None:
    card = score_unit(SMALL, COUNTERS | {"online": 2}, EXTERNAL)
    assert r2(card.line("a1").points) == 8.00  # 20 × (0.2 / 0.5)


def test_zero_denominator_is_not_measured_and_leaves_the_maximum() -> None:
    card = score_unit(SMALL, COUNTERS | {"received": 0, "online": 0, "synced": 0}, EXTERNAL)
    a1 = card.line("a1")
    assert (a1.measured, a1.reason, a1.points, a1.rate) == (False, NO_DENOMINATOR, None, None)
    assert card.not_measured == ("a1", "a2")
    assert card.groups[0].measured_max == 0 and card.groups[0].points == 0
    assert (r2(card.total), card.measured_max) == (16.33, 20)
    assert r2(card.score_100) == 81.67  # 16.333 / 20 × 100
    assert card.band is not None and card.band.key == "good"


def test_input_never_reported_is_not_measured() -> None:
    card = score_unit(SMALL, COUNTERS | {"known_synced": 0, "synced": 0}, EXTERNAL)
    assert card.line("a2").reason == INPUT_NOT_REPORTED
    assert card.line("a2").denominator == 10  # explain still shows what was counted
    assert card.measured_max == 40
    assert r2(card.score_100) == 90.83  # (20 + 9 + 7.333) / 40 × 100


def test_partly_reported_input_counts_unreported_as_no() -> None:
    # 3 synced of 10 received, only 4 of them reported: rate stays 3/10.
    card = score_unit(SMALL, COUNTERS | {"known_synced": 4}, EXTERNAL)
    assert r2(card.line("a2").points) == 3.00


def test_missing_external_inputs_are_not_measured() -> None:
    card = score_unit(SMALL, COUNTERS, {})
    assert card.line("b1").reason == NO_EXTERNAL_INPUT
    assert card.line("b2").reason == f"{NO_EXTERNAL_INPUT}:complaint_rate"
    assert card.line("b2").numerator == 1
    assert (card.total, card.measured_max, card.score_100) == (23.0, 30, 23.0 / 30 * 100)
    assert r2(card.score_100) == 76.67


def test_complement_is_floored_at_zero() -> None:
    card = score_unit(SMALL, COUNTERS | {"late": 8}, EXTERNAL)
    assert (card.line("b2").rate, card.line("b2").points, card.line("b2").measured) == (
        0.0, 0.0, True)


def test_nothing_measured_has_no_score_and_no_band() -> None:
    card = score_unit(SMALL, {}, {})
    assert (card.total, card.measured_max, card.score_100, card.band) == (0, 0, None, None)


def test_external_points_input_and_validation() -> None:
    scheme = Scheme("p", "p", "p", (Group("G", "G", "G", 10),),
                    (Indicator("x", "x", "x", "G", 10, source="external", input_kind="points"),))
    card = score_unit(scheme, {}, {"x": 7.5, "unrelated": 3})
    assert (card.line("x").points, card.line("x").rate, r2(card.score_100)) == (7.5, None, 75.00)
    with pytest.raises(ValueError, match=r"within 0\.\.10, got 11"):
        score_unit(scheme, {}, {"x": 11})
    with pytest.raises(ValueError, match=r"within 0\.\.1, got 1\.2"):
        score_unit(SMALL, COUNTERS, {"b1": 1.2})


def test_bands_boundaries_use_the_shown_score() -> None:
    def band(score: float | None) -> str | None:
        found = SMALL.band_for(score)
        return None if found is None else found.key

    assert [b.key for b in SMALL.bands] == ["excellent", "good", "fair", "average", "weak"]
    assert [band(s) for s in (90.0, 89.996, 89.99, 70.0, 50.0, 49.99, 0.0, None)] == [
        "excellent", "excellent", "good", "fair", "average", "weak", "weak", None]  # 89.996: 90.00


def test_qd766_scorecard_hand_computed() -> None:
    scheme = load_scheme(QD766)
    counters = {
        "received": 10, "synced": 8, "known_synced": 10,
        "progress_numerator": 9, "progress_denominator": 10, "known_progress": 10, "late": 1,
        "online": 4, "known_channel": 10,
        "fee_bearing": 5, "paid_online": 2, "known_paid_online": 5,
        "fee_bearing_procedure:P1": 2, "fee_bearing_procedure:P2": 2,
        "fee_bearing_procedure:P3": 1, "paid_online_procedure:P1": 2,
        "needs_result": 4, "e_result": 3, "known_e_result": 4,
        "digitised": 9, "known_digitised": 10, "data_reused": 4, "known_data_reused": 10,
        "vneid_verified": 5, "known_vneid_verified": 10,
    }
    external = {"procedures_published": 0.9, "feedback_handling": 0.75, "complaint_rate": 0.02}
    card = score_unit(scheme, counters, external)
    expected = {
        "synced_national": 4.80, "procedures_published": 10.80, "handled_on_time": 18.00,
        "online_filing": 9.60, "paid_online": 2.40, "procedures_paid_online": 0.67,
        "procedures_payable_national": None, "e_result": 4.50, "digitised": 4.00,
        "data_reused": 1.00, "national_data_store": None, "vneid": 2.00,
        "e_certified_copies": None, "feedback_handling": 9.00, "handling_satisfaction": 5.87,
    }
    assert {line.key: r2(line.points) for line in card.lines} == expected
    assert card.line("procedures_paid_online").numerator == 1
    assert card.line("procedures_paid_online").denominator == 3
    assert card.not_measured == (
        "procedures_payable_national", "national_data_store", "e_certified_copies")
    assert {g.key: r2(g.points) for g in card.groups} == {
        "transparency": 15.60, "progress": 18.00, "online_service": 9.60,
        "online_payment": 3.07, "digitisation": 11.50, "satisfaction": 14.87}
    assert (r2(card.total), card.measured_max, card.max_points) == (72.63, 92, 100)
    assert r2(card.score_100) == 78.95  # 72.633 / 92 × 100
    assert card.band is not None and card.band.key == "fair"


def test_the_rankers_card_cache_scores_again_only_when_inputs_differ() -> None:
    from services.scoring.domain.counters import Counters
    from services.scoring.rankings import RankingCache

    cache = RankingCache()
    counters = Counters(COUNTERS)
    first = cache.scorecard(SMALL, "2026-11", "U1", counters, dict(EXTERNAL))
    assert first == score_unit(SMALL, COUNTERS, EXTERNAL)
    # Equal inputs in new objects: the same card, not scored again.
    assert cache.scorecard(SMALL, "2026-11", "U1", Counters(COUNTERS), dict(EXTERNAL)) is first
    # The caller's counters changing later does not change what the cache compares with.
    counters.add({"online": -7})
    moved = cache.scorecard(SMALL, "2026-11", "U1", counters, dict(EXTERNAL))
    assert moved == score_unit(SMALL, counters, EXTERNAL) and moved != first
    # Another input, another period or another unit: scored on its own.
    other = cache.scorecard(SMALL, "2026-11", "U1", counters, {"b1": 0.9})
    assert other == score_unit(SMALL, counters, {"b1": 0.9})
    assert cache.scorecard(SMALL, "2026-10", "U1", Counters(COUNTERS), dict(EXTERNAL)) == first
    assert cache.scorecard(SMALL, "2026-11", "U2", Counters(), {}) == score_unit(SMALL, {}, {})
