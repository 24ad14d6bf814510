"""Idempotency: duplicates, reordering and state changes leave the counters exact."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scoring.domain.contribution import DossierFacts
from services.scoring.domain.counters import (
    BucketDelta,
    ContributionLedger,
    Counters,
    CounterStore,
    LedgerEntry,
    diff,
    entry_for,
    rolling_window_days,
)
from services.scoring.domain.periods import local_date

ACCEPTED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
V1 = DossierFacts("D1", 1, "U1", "P1", status=2, channel=2, accepted_at=ACCEPTED,
                  deadline_state="within", digitised=True)
BUCKETS = ("2026-11-02", "2026-11")


def run(*snapshots: DossierFacts) -> tuple[ContributionLedger, CounterStore]:
    ledger, store = ContributionLedger(), CounterStore()
    for facts in snapshots:
        store.add(ledger.apply(facts))
    return ledger, store


def test_counters_apply_delta_drops_zeros() -> None:
    c = Counters({"received": 2, "late": 1})
    c.apply_delta({"late": 1, "open_overdue": 1}, {"closed_late": 1, "late": 1})
    assert c == {"received": 2, "late": 1, "closed_late": 1, "open_overdue": -1}
    c.apply_delta(None, {"open_overdue": 1})
    assert c == {"received": 2, "late": 1, "closed_late": 1}
    assert c["missing"] == 0 and c.value("distinct:paid_online_procedure") == 0


def test_one_snapshot_lands_in_its_day_and_month_buckets() -> None:
    _, store = run(V1)
    assert {bucket for _, bucket in store.cells} == set(BUCKETS)
    month = store.get("U1", "2026-11")
    assert month["received"] == 1 and month["progress_numerator"] == 1
    assert month == store.get("U1", "2026-11-02")


def test_duplicates_and_stale_versions_are_no_ops() -> None:
    v2 = replace(V1, version=2, deadline_state="overdue")
    ledger = ContributionLedger()
    assert ledger.apply(V1)
    assert ledger.apply(v2)
    assert ledger.apply(v2) == []  # redelivered
    assert ledger.apply(V1) == []  # older, arriving late
    entry = ledger.get("D1")
    assert entry is not None and entry.version == 2


def test_within_then_overdue_then_completed_late() -> None:
    v2 = replace(V1, version=2, status=4, deadline_state="overdue")
    v3 = replace(V1, version=3, status=10, outcome="late",
                 completed_at=ACCEPTED + timedelta(days=9))
    ledger = ContributionLedger()
    ledger.apply(V1)
    [d2, *_] = ledger.apply(v2)
    assert d2.changes == {"open_within": -1, "progress_numerator": -1, "open_overdue": 1,
                          "late": 1}
    [d3, *_] = ledger.apply(v3)
    assert d3.changes == {"open_overdue": -1, "closed_late": 1}
    _, store = run(V1, v2, v3)
    month = store.get("U1", "2026-11")
    assert (month["late"], month["progress_numerator"], month["progress_denominator"]) == (1, 0, 1)


def test_reordered_delivery_ends_at_the_highest_version() -> None:
    v2 = replace(V1, version=2, deadline_state="overdue")
    v3 = replace(V1, version=3, status=9, outcome="on_time")
    _, in_order = run(V1, v2, v3)
    _, shuffled = run(v3, V1, v2, v3)
    assert in_order.cells == shuffled.cells
    assert shuffled.get("U1", "2026-11")["closed_on_time"] == 1


def test_unit_and_date_change_moves_the_whole_contribution() -> None:
    moved = replace(V1, version=2, unit_code="U2", accepted_at=ACCEPTED + timedelta(days=40))
    deltas = ContributionLedger().apply(V1)
    assert all(d.unit_code == "U1" for d in deltas)
    _, store = run(V1, moved)
    assert store.units() == {"U2"}
    assert {bucket for _, bucket in store.cells} == {"2026-12-12", "2026-12"}
    assert store.get("U2", "2026-12")["received"] == 1


def test_rolling_window_sums_daily_buckets() -> None:
    d2 = replace(V1, dossier_code="D2", accepted_at=ACCEPTED + timedelta(days=29))
    d3 = replace(V1, dossier_code="D3", accepted_at=ACCEPTED + timedelta(days=30))
    _, store = run(V1, d2, d3)
    end = local_date(ACCEPTED + timedelta(days=29))
    assert store.window("U1", rolling_window_days(end, 30))["received"] == 2
    assert store.window("U1", rolling_window_days(end, 29))["received"] == 1


def test_ledger_entry_round_trips_as_a_row() -> None:
    entry = entry_for(V1)
    assert entry.buckets == BUCKETS
    row = entry.to_row()
    assert row["buckets"] == list(BUCKETS) and row["contribution"]["digitised"] == 1
    assert LedgerEntry.from_row(row) == entry
    assert diff(entry, LedgerEntry.from_row(row)) == []
    assert diff(None, entry)[0] == BucketDelta("U1", "2026-11", dict(entry.contribution))


def test_dossier_without_any_date_is_counted_nowhere() -> None:
    undated = replace(V1, accepted_at=None)
    ledger, store = run(undated)
    assert store.cells == {} and ledger.get("D1") is not None
    _, store = run(undated, replace(V1, version=2))
    assert store.get("U1", "2026-11")["received"] == 1


# --- property: any delivery order, with duplicates, equals each dossier's last version ---

_MOMENTS = [datetime(2026, 3, 31, 16, 59, tzinfo=UTC), datetime(2026, 3, 31, 17, 0, tzinfo=UTC),
            datetime(2026, 12, 31, 20, 0, tzinfo=UTC), None]


@st.composite
def snapshot(draw: st.DrawFn, code: str, version: int) -> DossierFacts:
    flag = st.sampled_from([None, False, True])
    return DossierFacts(
        code, version, draw(st.sampled_from(["U1", "U2"])), draw(st.sampled_from(["P1", "P2"])),
        status=draw(st.integers(1, 10)), channel=draw(st.sampled_from([None, 1, 2, 3])),
        submitted_at=draw(st.sampled_from(_MOMENTS)), accepted_at=draw(st.sampled_from(_MOMENTS)),
        outcome=draw(st.sampled_from([None, "early", "on_time", "late"])),
        deadline_state=draw(st.sampled_from([None, "within", "due_soon", "overdue", "paused"])),
        supplement_count=draw(st.integers(0, 2)), synced_national=draw(flag),
        fee_bearing=draw(flag), paid_online=draw(flag), digitised=draw(flag),
        needs_result=draw(flag), e_result=draw(flag), vneid_verified=draw(flag))


@st.composite
def histories(draw: st.DrawFn) -> list[DossierFacts]:
    events: list[DossierFacts] = []
    for n in range(draw(st.integers(1, 4))):
        events += [draw(snapshot(f"D{n}", v)) for v in range(1, draw(st.integers(1, 5)) + 1)]
    duplicates = draw(st.lists(st.sampled_from(events), max_size=6))
    return draw(st.permutations(events + duplicates))


@settings(max_examples=300, deadline=None)
@given(histories())
def test_any_delivery_order_equals_the_latest_versions(events: list[DossierFacts]) -> None:
    ledger, live = run(*events)
    latest: dict[str, DossierFacts] = {}
    for facts in events:
        if facts.dossier_code not in latest or facts.version > latest[facts.dossier_code].version:
            latest[facts.dossier_code] = facts
    rebuilt = CounterStore()
    for facts in latest.values():
        rebuilt.add(diff(None, entry_for(facts)))
    assert live.cells == rebuilt.cells
    assert all(n > 0 for cell in live.cells.values() for n in cell.values())
    assert {e.dossier_code: e.version for e in ledger} == {
        code: f.version for code, f in latest.items()}
