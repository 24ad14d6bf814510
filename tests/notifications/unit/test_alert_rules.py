"""Which events raise which alerts, their unique keys, and the alert lifecycle."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from services.contracts import dossiers as contracts
from services.notifications.domain import alerts as al
from services.notifications.domain.alerts import (
    Alert,
    AlertKind,
    AlertState,
    InvalidTransition,
    acknowledge,
    alert_key,
    decide_alerts,
    follow_up,
    resolve,
    resolve_on_completion,
)
from services.notifications.domain.facts import DeadLetterFacts, DossierFacts, QuarantineFacts

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 10, 8, 9, 0, tzinfo=VN)
DUE = datetime(2025, 10, 8, 17, 0, tzinfo=VN)
CODE = "H99.01-251001-0001"


def facts(**kw: object) -> DossierFacts:
    base = DossierFacts(unit_code="H99.01", dossier_code=CODE, procedure_code="1.001234",
                        status=4, due_at=DUE)
    return replace(base, **kw)  # type: ignore[arg-type]


def test_event_kinds_are_the_contract_routing_keys() -> None:
    assert al.DUE_SOON == contracts.DossierDueSoon.TYPE
    assert al.OVERDUE == contracts.DossierOverdue.TYPE
    assert al.COMPLETED == contracts.DossierCompleted.TYPE
    assert al.APOLOGY_ISSUED == contracts.ApologyIssued.TYPE
    assert al.STATUS_CHANGED == contracts.DossierStatusChanged.TYPE
    assert al.QUARANTINED == contracts.MessageQuarantined.TYPE


def test_alert_key_names_kind_dossier_and_threshold() -> None:
    assert alert_key(AlertKind.OVERDUE, CODE, "x") == f"overdue:{CODE}:x"
    assert alert_key("quarantined_input", None, 7) == "quarantined_input:-:7"
    with pytest.raises(ValueError):
        alert_key("no_such_kind", CODE, 1)


def test_due_soon_raises_one_open_alert_with_its_facts() -> None:
    [alert] = decide_alerts(al.DUE_SOON, facts(remaining_working_minutes=90), NOW)
    assert alert.kind is AlertKind.DUE_SOON and alert.state is AlertState.OPEN
    assert (alert.unit_code, alert.dossier_code, alert.raised_at) == ("H99.01", CODE, NOW)
    assert alert.key == f"due_soon:{CODE}:{DUE.isoformat()}"
    assert alert.details["remaining_working_minutes"] == 90
    assert alert.details["due_at"] == DUE.isoformat()


def test_the_same_event_twice_gives_the_same_key() -> None:
    first = decide_alerts(al.OVERDUE, facts(), NOW)
    again = decide_alerts(al.OVERDUE, facts(), datetime(2025, 10, 9, 8, 0, tzinfo=VN))
    assert [a.key for a in first] == [a.key for a in again]


def test_a_new_due_date_is_a_new_threshold() -> None:
    [old] = decide_alerts(al.OVERDUE, facts(), NOW)
    [new] = decide_alerts(al.OVERDUE, facts(due_at=datetime(2025, 10, 9, 17, tzinfo=VN)), NOW)
    assert old.key != new.key


def test_overdue_carries_an_apology_already_issued() -> None:
    issued = datetime(2025, 10, 8, 8, 0, tzinfo=VN)
    [alert] = decide_alerts(al.OVERDUE, facts(apology_issued_at=issued), NOW)
    assert alert.kind is AlertKind.OVERDUE and alert.apology_issued_at == issued
    assert not alert.owes_apology


@pytest.mark.parametrize("outcome", ["early", "on_time"])
def test_completion_in_time_raises_nothing(outcome: str) -> None:
    assert decide_alerts(al.COMPLETED, facts(status=9, outcome=outcome), NOW) == []


def test_late_completion_raises_completed_late_that_owes_an_apology() -> None:
    done = datetime(2025, 10, 9, 10, 0, tzinfo=VN)
    [alert] = decide_alerts(al.COMPLETED, facts(status=9, outcome="late", completed_at=done), NOW)
    assert alert.kind is AlertKind.COMPLETED_LATE
    assert alert.key == f"completed_late:{CODE}:completed"
    assert alert.details["completed_at"] == done.isoformat() and alert.owes_apology


@pytest.mark.parametrize("kind", [al.DUE_SOON, al.OVERDUE])
def test_closed_dossiers_are_never_due_soon_or_overdue(kind: str) -> None:
    assert decide_alerts(kind, facts(status=10), NOW) == []


def test_more_than_one_supplement_request_alerts_once_per_dossier() -> None:
    assert decide_alerts(al.STATUS_CHANGED, facts(status=5, supplement_count=1), NOW) == []
    [second] = decide_alerts(al.STATUS_CHANGED, facts(status=5, supplement_count=2), NOW)
    [third] = decide_alerts(al.STATUS_CHANGED, facts(status=5, supplement_count=3), NOW)
    assert second.kind is AlertKind.MULTIPLE_SUPPLEMENTS and second.key == third.key
    assert third.details["supplement_count"] == 3


def test_an_overdue_dossier_with_two_supplements_gets_both_alerts() -> None:
    kinds = {a.kind for a in decide_alerts(al.OVERDUE, facts(supplement_count=2), NOW)}
    assert kinds == {AlertKind.OVERDUE, AlertKind.MULTIPLE_SUPPLEMENTS}


def test_quarantine_alerts_the_province_without_quoting_personal_input() -> None:
    f = QuarantineFacts(42, "dvcqg.DongBoHoSoMC",
                        "data.0.SoDienThoai: String too long (got '0912345678901'); "
                        "data.0.TrangThaiHoSo: Input should be 1..10 (got 99)")
    [alert] = decide_alerts(al.QUARANTINED, f, NOW)
    assert alert.kind is AlertKind.QUARANTINED_INPUT and alert.unit_code == al.PROVINCE
    assert alert.key == "quarantined_input:-:42" and alert.dossier_code is None
    reason = str(alert.details["reason"])
    assert "0912345678901" not in reason and "(got 99)" in reason


def test_quarantine_with_a_unit_goes_to_that_unit() -> None:
    [alert] = decide_alerts(al.QUARANTINED, QuarantineFacts(1, "f", "bad", "H99.02"), NOW)
    assert alert.unit_code == "H99.02"


def test_dead_letter_alerts_the_operators() -> None:
    f = DeadLetterFacts("notifications.events", "m-1", "dossier.overdue", "boom", 5)
    [alert] = decide_alerts(al.DEAD_LETTERED, f, NOW)
    assert alert.kind is AlertKind.DEAD_LETTERED and alert.unit_code == al.PROVINCE
    assert alert.key == "dead_lettered:-:notifications.events/m-1"
    assert decide_alerts(al.OVERDUE, f, NOW) == []


def test_facts_from_a_contract_snapshot() -> None:
    snap = contracts.DossierSnapshot(
        dossier_code=CODE, version=3, unit_code="H99.01", procedure_code="1.001234",
        status=contracts.Status.DECIDED, due_at=DUE, outcome=contracts.Outcome.LATE,
        deadline_state=contracts.DeadlineState.OVERDUE, supplement_count=2)
    f = DossierFacts.from_snapshot(snap)
    assert f.closed and f.status == 9 and f.outcome == "late" and f.deadline_state == "overdue"
    assert (f.unit_code, f.dossier_code, f.due_at, f.supplement_count) == (
        "H99.01", CODE, DUE, 2)
    assert DossierFacts.from_snapshot(snap, remaining_working_minutes=30).remaining_working_minutes


def open_alert(kind: AlertKind, dossier: str = CODE) -> Alert:
    return Alert(alert_key(kind, dossier, "t"), kind, "H99.01", dossier, AlertState.OPEN, NOW)


def test_lifecycle_open_acknowledged_resolved() -> None:
    later = datetime(2025, 10, 8, 10, 0, tzinfo=VN)
    acked = acknowledge(open_alert(AlertKind.OVERDUE), "officer-7", later)
    assert acked.state is AlertState.ACKNOWLEDGED and acked.acknowledged_by == "officer-7"
    done = resolve(acked, later, "handled")
    assert done.state is AlertState.RESOLVED and done.resolution == "handled"
    assert not done.is_active


def test_invalid_transitions_raise_clearly() -> None:
    acked = acknowledge(open_alert(AlertKind.OVERDUE), "u", NOW)
    with pytest.raises(InvalidTransition, match="acknowledged"):
        acknowledge(acked, "u", NOW)
    done = resolve(acked, NOW, "x")
    with pytest.raises(InvalidTransition, match="already resolved"):
        resolve(done, NOW, "x")
    with pytest.raises(InvalidTransition):
        acknowledge(done, "u", NOW)
    with pytest.raises(InvalidTransition, match="not resolved by dossier completion"):
        resolve_on_completion(open_alert(AlertKind.COMPLETED_LATE), NOW)


def test_completion_resolves_the_dossiers_open_alerts_only() -> None:
    done_at = datetime(2025, 10, 9, 9, 0, tzinfo=VN)
    existing = [open_alert(AlertKind.DUE_SOON), open_alert(AlertKind.OVERDUE),
                acknowledge(open_alert(AlertKind.MULTIPLE_SUPPLEMENTS), "u", NOW),
                open_alert(AlertKind.COMPLETED_LATE), open_alert(AlertKind.OVERDUE, "OTHER")]
    changed = follow_up(al.COMPLETED, facts(status=9, outcome="late", completed_at=done_at),
                        existing, NOW)
    assert {a.kind for a in changed} == {AlertKind.DUE_SOON, AlertKind.OVERDUE,
                                         AlertKind.MULTIPLE_SUPPLEMENTS}
    assert all(a.state is AlertState.RESOLVED and a.resolved_at == done_at for a in changed)
    assert all(a.dossier_code == CODE and a.resolution == "dossier_completed" for a in changed)


def test_an_issued_apology_is_noted_on_late_dossier_alerts() -> None:
    issued = datetime(2025, 10, 8, 15, 0, tzinfo=VN)
    existing = [open_alert(AlertKind.OVERDUE), open_alert(AlertKind.DUE_SOON)]
    [changed] = follow_up(al.APOLOGY_ISSUED, facts(apology_issued_at=issued), existing, NOW)
    assert changed.kind is AlertKind.OVERDUE and changed.apology_issued_at == issued
    assert changed.state is AlertState.OPEN  # still late against the original date


def test_a_moved_due_date_resolves_due_soon() -> None:
    [changed] = follow_up("dossier.revised", facts(deadline_state="within"),
                          [open_alert(AlertKind.DUE_SOON)], NOW)
    assert changed.state is AlertState.RESOLVED and changed.resolution == "due_date_moved"


def test_resolved_alerts_are_left_alone() -> None:
    done = resolve(open_alert(AlertKind.OVERDUE), NOW, "x")
    assert follow_up(al.COMPLETED, facts(status=9), [done], NOW) == []
