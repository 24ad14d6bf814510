"""Who gets what, and when: routes, quiet hours, escalation, reminders and the daily digest.

Times are October 2025 in Vietnam: Mon 6 .. Fri 10, Sat 11, Sun 12, Mon 13; no public holiday.
Rules that use the calendar run on the tests' fake and on the real data-driven calendar.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain.alerts import (
    Alert,
    AlertKind,
    AlertState,
    acknowledge,
    alert_key,
    mark_escalated,
    mark_reminded,
    note_apology,
    resolve,
)
from services.notifications.domain.calendar import CalendarLike
from services.notifications.domain.contacts import Contacts, ContactsError, targets_for
from services.notifications.domain.policy import (
    Policy,
    PolicyError,
    delivery_time,
    digest_due,
    escalations_due,
    in_working_time,
    recipients_for,
    reminders_due,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 10, day, hour, minute, tzinfo=VN)


def alert(kind: AlertKind, unit: str = "H99.01", raised: datetime | None = None) -> Alert:
    dossier = None if kind in {AlertKind.QUARANTINED_INPUT, AlertKind.DEAD_LETTERED} else "D-1"
    return Alert(alert_key(kind, dossier, "t"), kind, unit, dossier, AlertState.OPEN,
                 raised or at(6, 9))


def addresses(targets: list[Any]) -> set[tuple[str, str, str]]:
    return {(t.channel, t.role, t.address) for t in targets}


# -- who ---------------------------------------------------------------------------------------

def test_sample_policy_routes_every_alert_kind(policy: Policy) -> None:
    assert set(policy.routes) == set(AlertKind)
    assert policy.routes[AlertKind.DEAD_LETTERED].urgent
    assert policy.escalation.after_working_hours == 4 and policy.digest.at == time(16, 30)
    assert policy.apology.extra_working_days == 3


def test_overdue_goes_to_handling_officer_and_unit_head(contacts: Contacts,
                                                        policy: Policy) -> None:
    assert addresses(recipients_for(alert(AlertKind.OVERDUE), contacts, policy)) == {
        ("email", "handling_officer", "mot-cua.h99-01@tinhmau.example"),
        ("email", "unit_head", "lanh-dao.h99-01@tinhmau.example"),
    }


def test_webhooks_go_only_where_a_contact_has_one(contacts: Contacts, policy: Policy) -> None:
    targets = recipients_for(alert(AlertKind.DUE_SOON, "H99.02"), contacts, policy)
    assert addresses(targets) == {
        ("email", "handling_officer", "mot-cua.h99-02@tinhmau.example"),
        ("webhook", "handling_officer", "https://stc.tinhmau.example/hooks/parpulse"),
    }
    [hook] = [t for t in targets if t.channel == "webhook"]
    assert hook.secret_env == "PARPULSE_WEBHOOK_SECRET_H99_02"


def test_a_unit_without_contacts_falls_back_to_the_operations_centre(
        contacts: Contacts, policy: Policy) -> None:
    targets = recipients_for(alert(AlertKind.OVERDUE, "H99.05"), contacts, policy)
    assert {t.role for t in targets} == {"operations_centre"}
    assert {t.channel for t in targets} == {"email", "webhook"}


def test_quarantined_input_goes_to_integrators(contacts: Contacts, policy: Policy) -> None:
    targets = recipients_for(alert(AlertKind.QUARANTINED_INPUT, "province"), contacts, policy)
    assert {(t.channel, t.role) for t in targets} == {("email", "integrator"),
                                                      ("webhook", "integrator")}


def test_dead_letters_go_to_operators_and_the_operations_centre(contacts: Contacts,
                                                                policy: Policy) -> None:
    roles = {t.role for t in recipients_for(alert(AlertKind.DEAD_LETTERED, "province"),
                                            contacts, policy)}
    assert roles == {"operator", "operations_centre"}


def test_one_address_in_two_roles_gets_one_delivery() -> None:
    c = Contacts.from_dict({"units": {"U1": {
        "handling_officer": [{"email": "a@x.example"}],
        "unit_head": [{"email": "a@x.example"}, {"email": "b@x.example"}]}}})
    got = targets_for("U1", ["handling_officer", "unit_head"], ["email"], c)
    assert [(t.address, t.role) for t in got] == [("a@x.example", "handling_officer"),
                                                 ("b@x.example", "unit_head")]


def test_an_unrouted_kind_reaches_nobody(contacts: Contacts) -> None:
    assert recipients_for(alert(AlertKind.OVERDUE), contacts, Policy(routes={})) == []


# -- when: quiet hours ---------------------------------------------------------------------

@pytest.mark.parametrize(("now", "expected"), [
    (at(8, 9), at(8, 9)),          # Wednesday morning: now
    (at(8, 12), at(8, 13, 30)),    # lunch break: after lunch
    (at(10, 20), at(13, 7)),       # Friday evening: Monday 07:00
    (at(11, 10), at(13, 7)),       # Saturday: Monday 07:00
    (at(8, 6, 59), at(8, 7)),      # before work
])
def test_quiet_hours_hold_until_the_next_working_instant(
        calendar: CalendarLike, policy: Policy, now: datetime, expected: datetime) -> None:
    assert delivery_time(alert(AlertKind.OVERDUE), now, calendar, policy) == expected


def test_urgent_alerts_ignore_quiet_hours(calendar: CalendarLike, policy: Policy) -> None:
    saturday_night = at(11, 23)
    assert delivery_time(alert(AlertKind.DEAD_LETTERED, "province"), saturday_night, calendar,
                         policy) == saturday_night


def test_quiet_hours_can_be_switched_off(calendar: CalendarLike, policy: Policy) -> None:
    loud = replace(policy, quiet_hours=False)
    assert delivery_time(alert(AlertKind.DUE_SOON), at(11, 23), calendar, loud) == at(11, 23)


def test_working_time_is_half_open(calendar: CalendarLike) -> None:
    assert in_working_time(at(8, 7), calendar) and in_working_time(at(8, 16, 59), calendar)
    assert not in_working_time(at(8, 17), calendar)


# -- escalation and apology reminders -------------------------------------------------------

def test_escalation_after_n_working_hours_without_apology(calendar: CalendarLike,
                                                          policy: Policy) -> None:
    a = alert(AlertKind.OVERDUE, raised=at(6, 9))  # Monday 09:00; 4 working hours -> 15:00
    assert escalations_due([a], at(6, 14, 59), calendar, policy) == []
    [due] = escalations_due([a], at(6, 15), calendar, policy)
    assert due.alert == a and due.roles == ("unit_head",) and due.due_since == at(6, 15)


def test_escalation_counts_working_hours_only(calendar: CalendarLike, policy: Policy) -> None:
    a = alert(AlertKind.OVERDUE, raised=at(10, 15))  # Friday 15:00: 2h Friday, 2h Monday
    assert escalations_due([a], at(12, 23), calendar, policy) == []
    [due] = escalations_due([a], at(13, 9), calendar, policy)
    assert due.due_since == at(13, 9)


def test_no_escalation_once_apologised_escalated_resolved_or_other_kind(
        calendar: CalendarLike, policy: Policy) -> None:
    a = alert(AlertKind.OVERDUE, raised=at(6, 9))
    late = at(7, 16)
    assert escalations_due([note_apology(a, at(6, 10))], late, calendar, policy) == []
    assert escalations_due([mark_escalated(a, at(6, 15))], late, calendar, policy) == []
    assert escalations_due([resolve(a, at(6, 10), "x")], late, calendar, policy) == []
    assert escalations_due([alert(AlertKind.DUE_SOON, raised=at(6, 9))], late, calendar,
                           policy) == []
    # Acknowledging is not apologising: the unit head still hears of it.
    assert len(escalations_due([acknowledge(a, "u", at(6, 10))], late, calendar, policy)) == 1


def test_apology_reminders_repeat_every_n_working_hours(calendar: CalendarLike,
                                                        policy: Policy) -> None:
    a = alert(AlertKind.COMPLETED_LATE, raised=at(6, 9))
    assert reminders_due([a], at(6, 14), calendar, policy) == []
    assert reminders_due([a], at(6, 15), calendar, policy) == [a]
    reminded = mark_reminded(a, at(6, 15))
    assert reminders_due([reminded], at(7, 8), calendar, policy) == []
    assert reminders_due([reminded], at(7, 10), calendar, policy) == [reminded]
    assert reminders_due([note_apology(reminded, at(7, 9))], at(8, 16), calendar, policy) == []
    assert reminders_due([alert(AlertKind.DUE_SOON)], at(8, 16), calendar, policy) == []


# -- digest ---------------------------------------------------------------------------------

def test_digest_is_due_once_a_working_day_at_the_configured_time(
        calendar: CalendarLike, policy: Policy) -> None:
    slot = at(8, 16, 30)
    assert digest_due("H99.01", None, at(8, 16, 29), calendar, policy) is None
    assert digest_due("H99.01", None, at(8, 16, 30), calendar, policy) == slot
    assert digest_due("H99.01", at(7, 16, 30), at(8, 18), calendar, policy) == slot
    assert digest_due("H99.01", slot, at(8, 18), calendar, policy) is None


def test_no_digest_on_weekends_holidays_or_when_disabled(calendar: CalendarLike,
                                                         policy: Policy) -> None:
    assert digest_due("H99.01", None, at(11, 17), calendar, policy) is None
    off = replace(policy, digest=replace(policy.digest, enabled=False))
    assert digest_due("H99.01", None, at(8, 17), calendar, off) is None


def test_no_digest_on_a_day_off(fake_calendar: Any, policy: Policy) -> None:
    fake_calendar.days_off.add(date(2025, 10, 8))
    assert digest_due("H99.01", None, at(8, 17), fake_calendar, policy) is None


def test_real_calendar_knows_national_day(policy: Policy) -> None:
    from services.common.calendar_data import load_calendar

    national_day = datetime(2025, 9, 2, 17, tzinfo=VN)
    assert digest_due("H99.01", None, national_day, load_calendar(), policy) is None


def test_digest_time_follows_the_calendar_zone(calendar: CalendarLike, policy: Policy) -> None:
    from datetime import UTC

    # 09:30 UTC is 16:30 in Vietnam.
    assert digest_due("H99.01", None, datetime(2025, 10, 8, 9, 30, tzinfo=UTC), calendar,
                      policy) == at(8, 16, 30)


# -- the policy and contacts documents --------------------------------------------------------

@pytest.mark.parametrize(("doc", "message"), [
    ({"routes": {"late_ish": {"roles": [], "channels": []}}}, "unknown alert kind"),
    ({"routes": {"overdue": {"roles": ["mayor"], "channels": ["email"]}}}, "routes.overdue.roles"),
    ({"routes": {"overdue": {"roles": [], "channels": ["sms"]}}}, "routes.overdue.channels"),
    ({"escalation": {"after_working_hours": 0}}, "positive whole number"),
    ({"digest": {"at": "late afternoon"}}, "HH:MM"),
    ({"quiet_hour": True}, "unknown keys"),
])
def test_policy_errors_say_where(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy.from_dict(doc)


def test_an_unquoted_yaml_time_still_reads_as_a_time() -> None:
    import yaml

    assert Policy.from_dict(yaml.safe_load("digest: {at: 16:30}")).digest.at == time(16, 30)


@pytest.mark.parametrize(("doc", "message"), [
    ({}, "'units' must be a mapping"),
    ({"units": {"U": {"chef": [{"email": "a@x.example"}]}}}, "unknown role"),
    ({"units": {"U": {"unit_head": [{"name": "nobody"}]}}}, "needs an email or a webhook"),
    ({"units": {"U": {"unit_head": [{"webhook": "https://x.example"}]}}}, "webhook_secret_env"),
])
def test_contacts_errors_say_where(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ContactsError, match=message):
        Contacts.from_dict(doc)


def test_sample_contacts_use_the_demo_unit_codes(contacts: Contacts) -> None:
    from services.common.reference import load_province

    known = {u.code for u in load_province("demo").units}
    assert set(contacts.by_unit) - {"province"} <= known
    assert contacts.unit_name("H99.01") == "Sở Tư pháp"
    assert contacts.unit_name("H99.77") == "H99.77"
