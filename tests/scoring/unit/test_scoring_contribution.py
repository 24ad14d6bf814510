"""Counting rules of one dossier: what it adds to its unit's counters."""

from dataclasses import replace
from datetime import UTC, datetime

from services.contracts.dossiers import DeadlineState, DossierSnapshot, Outcome, Status
from services.scoring.domain.contribution import (
    FACT_FIELDS,
    DossierFacts,
    anchor_date,
    contribution,
)

ACCEPTED_AT = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
BASE = DossierFacts("H1-261102-0001", 1, "U1", "1.001234", status=4, channel=2,
                    accepted_at=ACCEPTED_AT, due_at=datetime(2026, 11, 6, 10, tzinfo=UTC),
                    deadline_state="within")


def on(facts: DossierFacts) -> set[str]:
    c = contribution(facts)
    assert set(c.values()) <= {1}
    return set(c)


def test_snapshot_converts_to_facts_with_the_documented_recipe() -> None:
    snapshot = DossierSnapshot(
        dossier_code="H1", version=3, unit_code="U1", procedure_code="1.001234",
        status=Status.DECIDED, channel=2, accepted_at=ACCEPTED_AT, outcome=Outcome.EARLY,
        deadline_state=DeadlineState.WITHIN, synced_national=True, vneid_verified=False)
    assert set(DossierSnapshot.model_fields) >= FACT_FIELDS
    facts = DossierFacts(**snapshot.model_dump(include=set(FACT_FIELDS)))
    assert facts.version == 3
    assert {"received", "online", "closed_early", "progress_numerator", "synced",
            "known_synced", "known_vneid_verified"} <= on(facts)
    assert "vneid_verified" not in on(facts)


def test_open_within_deadline_counts_as_on_time() -> None:
    assert on(BASE) == {"submitted", "received", "online", "known_channel", "open_within",
                        "progress_numerator", "progress_denominator", "known_progress"}


def test_overdue_and_late_states() -> None:
    overdue = on(replace(BASE, deadline_state="overdue"))
    assert {"open_overdue", "late"} <= overdue and "progress_numerator" not in overdue
    closed_late = on(replace(BASE, status=10, outcome="late"))
    assert {"closed_late", "late", "progress_denominator"} <= closed_late
    two_supplements = on(replace(BASE, status=9, outcome="on_time", supplement_count=2))
    assert "closed_late" in two_supplements  # more than one supplement request is late
    assert "open_overdue" in on(replace(BASE, status=5, deadline_state="paused",
                                        supplement_count=2))
    assert "open_within" in on(replace(BASE, status=5, deadline_state="paused"))


def test_withdrawn_counts_on_time_and_refused_is_not_handled() -> None:
    withdrawn = on(replace(BASE, status=7, outcome=None))
    assert {"withdrawn", "closed_on_time", "progress_numerator"} <= withdrawn
    assert on(replace(BASE, status=7, accepted_at=None,
                      submitted_at=ACCEPTED_AT)) == {"submitted"}  # withdrawn before intake
    assert on(replace(BASE, status=3)) == {"submitted", "refused"}
    assert on(replace(BASE, status=1, accepted_at=None, submitted_at=ACCEPTED_AT)) == {
        "submitted"}


def test_closed_without_outcome_is_counted_but_unknown() -> None:
    c = on(replace(BASE, status=9, outcome=None))
    assert {"closed_unknown", "progress_denominator"} <= c
    assert not {"progress_numerator", "known_progress", "late"} & c


def test_none_flags_count_zero_and_are_not_known() -> None:
    facts = replace(BASE, channel=None, digitised=None, data_reused=False, vneid_verified=True)
    c = on(facts)
    assert not {"online", "known_channel", "digitised", "known_digitised", "data_reused"} & c
    assert {"known_data_reused", "vneid_verified", "known_vneid_verified"} <= c


def test_payment_and_result_counters_need_their_denominator() -> None:
    assert not {"known_paid_online", "paid_online"} & on(replace(BASE, paid_online=True))
    paid = on(replace(BASE, fee_bearing=True, paid_online=True))
    assert {"fee_bearing", "known_fee_bearing", "paid_online", "known_paid_online",
            "fee_bearing_procedure:1.001234", "paid_online_procedure:1.001234"} <= paid
    unpaid = on(replace(BASE, fee_bearing=True, paid_online=None))
    assert "fee_bearing_procedure:1.001234" in unpaid
    assert not {"known_paid_online", "paid_online_procedure:1.001234"} & unpaid
    assert "known_e_result" not in on(replace(BASE, e_result=True))
    assert {"needs_result", "e_result", "known_e_result"} <= on(
        replace(BASE, needs_result=True, e_result=True))


def test_as_of_marks_a_running_clock_past_due_overdue_for_reports_only() -> None:
    after_due = datetime(2026, 11, 7, tzinfo=UTC)
    assert "open_overdue" in contribution(BASE, as_of=after_due)
    assert "open_within" in contribution(BASE)  # live counters follow the snapshot only
    paused = replace(BASE, status=5, deadline_state="paused")
    assert "open_within" in contribution(paused, as_of=after_due)


def test_anchor_is_acceptance_else_submission_in_local_time() -> None:
    late_evening = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # 01:00 on 1 Dec in Vietnam
    assert str(anchor_date(replace(BASE, accepted_at=late_evening))) == "2026-12-01"
    assert str(anchor_date(replace(BASE, accepted_at=None, submitted_at=late_evening,
                                   status=1))) == "2026-12-01"
    assert anchor_date(replace(BASE, accepted_at=None)) is None
