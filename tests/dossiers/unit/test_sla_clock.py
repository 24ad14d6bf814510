"""Worked examples of the SLA clock on the real calendar (holidays package + data/calendars).

Working periods are 07:00-11:30 (270 min) and 13:30-17:00 (210 min): 480 minutes a day.
Each expected value is worked out by hand in the comment above it.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.common.calendar_data import load_calendar
from services.contracts import dossiers as contracts
from services.dossiers.domain.sla import (
    DeadlineState,
    Outcome,
    Pause,
    SlaInput,
    StatutoryTime,
    TimeUnit,
    assess,
    compute_due,
    outcome_for,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = load_calendar()
ONE_DAY = StatutoryTime(1, TimeUnit.WORKING_DAYS)
TWO_DAYS = StatutoryTime(2, TimeUnit.WORKING_DAYS)


def vn(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN)


def due(accepted: datetime, statutory: StatutoryTime, *pauses: Pause) -> datetime | None:
    return compute_due(CAL, accepted, statutory, pauses)


def test_friday_afternoon_one_working_day() -> None:
    # Fri 14/3/2025 16:00: 60 min on Friday, the weekend does not count, 420 on Monday:
    # 270 in the morning, 150 from 13:30 -> Mon 17/3 16:00.
    assert due(vn(2025, 3, 14, 16), ONE_DAY) == vn(2025, 3, 17, 16)


def test_acceptance_at_lunch_counts_from_1330() -> None:
    # Wed 12/3/2025 12:00 is lunch: 210 min from 13:30 to 17:00, then 270 on Thursday, which
    # end exactly with the morning period -> Thu 13/3 11:30, not 13:30.
    assert due(vn(2025, 3, 12, 12), ONE_DAY) == vn(2025, 3, 13, 11, 30)


def test_acceptance_after_hours_counts_from_next_morning() -> None:
    # Wed 12/3/2025 18:00, half a working day (240 min): Thu 07:00 + 240 -> 11:00.
    half = StatutoryTime(0.5, TimeUnit.WORKING_DAYS)
    assert due(vn(2025, 3, 12, 18), half) == vn(2025, 3, 13, 11)
    # Four working hours are the same 240 minutes.
    assert due(vn(2025, 3, 12, 18), StatutoryTime(4, TimeUnit.WORKING_HOURS)) == vn(2025, 3, 13, 11)


def test_due_at_the_end_of_the_day_is_1700() -> None:
    # Mon 10/3/2025 07:00 with one day: the whole of Monday -> 17:00 the same day, as printed on a
    # receipt, not Tuesday 07:00. Five days -> Friday 14/3 17:00.
    assert due(vn(2025, 3, 10, 7), ONE_DAY) == vn(2025, 3, 10, 17)
    assert due(vn(2025, 3, 10, 7), StatutoryTime(5, TimeUnit.WORKING_DAYS)) == vn(2025, 3, 14, 17)


def test_tet_2026() -> None:
    # Fri 13/2/2026 10:00, two days (960): Friday gives 90 + 210 = 300. Mon 16-Fri 20/2 are Tết,
    # 21-22 the weekend. Mon 23/2 gives 480 (180 left), Tue 24/2 07:00 + 180 -> 10:00.
    assert due(vn(2026, 2, 13, 10), TWO_DAYS) == vn(2026, 2, 24, 10)


def test_tet_2027() -> None:
    # Lunar New Year is Sat 6/2/2027; the calendar has Thu 4/2 to Wed 10/2 off.
    # Wed 3/2 16:00 with one day: 60 on Wednesday, 420 on Thu 11/2 -> 16:00.
    assert due(vn(2027, 2, 3, 16), ONE_DAY) == vn(2027, 2, 11, 16)


def test_make_up_saturdays_count() -> None:
    # Sat 26/4/2025 is a make-up working day (package): Fri 25/4 16:00 + one day -> Sat 16:00.
    assert due(vn(2025, 4, 25, 16), ONE_DAY) == vn(2025, 4, 26, 16)
    # Sat 10/1/2026 is one too (our override file), and Fri 2/1/2026 is off in exchange:
    # Wed 31/12/2025 16:00: 60, Thu 1/1 and Fri 2/1 off, weekend, Mon 5/1 16:00.
    assert due(vn(2026, 1, 9, 16), ONE_DAY) == vn(2026, 1, 10, 16)
    assert due(vn(2025, 12, 31, 16), ONE_DAY) == vn(2026, 1, 5, 16)


def test_pause_spanning_a_holiday() -> None:
    # Tue 29/4/2025 08:00, three days (1440). Without a pause: 420 on Tuesday; 30/4, 1/5, 2/5
    # off and the weekend; Mon 5/5 and Tue 6/5 480 each; 60 left -> Wed 7/5 08:00.
    accepted, three = vn(2025, 4, 29, 8), StatutoryTime(3, TimeUnit.WORKING_DAYS)
    assert due(accepted, three) == vn(2025, 5, 7, 8)
    # A supplement request from Tue 10:00 to Mon 5/5 09:00 consumed 300 working minutes on
    # Tuesday and 120 on Monday; the holidays in between were never working time. So the due
    # instant moves by 420: from Wed 07:00+60 to the end of Wednesday -> 17:00.
    pause = Pause(vn(2025, 4, 29, 10), vn(2025, 5, 5, 9))
    assert due(accepted, three, pause) == vn(2025, 5, 7, 17)


def test_an_open_pause_stops_the_clock_but_a_late_one_changes_nothing() -> None:
    accepted = vn(2025, 3, 14, 16)
    assert due(accepted, ONE_DAY, Pause(vn(2025, 3, 17, 9))) is None
    # A pause that starts after the due instant came too late to stop anything.
    assert due(accepted, ONE_DAY, Pause(vn(2025, 3, 18, 9))) == vn(2025, 3, 17, 16)
    assert due(accepted, ONE_DAY, Pause(vn(2025, 3, 18, 9), vn(2025, 3, 20, 9))) == vn(
        2025, 3, 17, 16
    )


def test_calendar_days() -> None:
    five = StatutoryTime(5, TimeUnit.CALENDAR_DAYS)
    # Accepted Tue 11/3/2025: days 12..16 count; Sun 16/3 is not a working day, so the period
    # ends with the next working day -> Mon 17/3 17:00.
    assert due(vn(2025, 3, 11, 10), five) == vn(2025, 3, 17, 17)
    # Accepted Mon 10/3: days 11..15, Sat 15 -> Mon 17/3 as well; accepted Wed 12/3 -> Mon 17/3.
    assert due(vn(2025, 3, 12, 10), five) == vn(2025, 3, 17, 17)
    # A two-day pause pushes the end of the period from 17/3 00:00 to 19/3 00:00 -> Tue 18/3.
    pause = Pause(vn(2025, 3, 12, 10), vn(2025, 3, 14, 10))
    assert due(vn(2025, 3, 11, 10), five, pause) == vn(2025, 3, 18, 17)
    with pytest.raises(ValueError, match="whole"):
        StatutoryTime(1.5, TimeUnit.CALENDAR_DAYS)


def test_outcome_is_by_local_day() -> None:
    due_at = vn(2025, 3, 17, 16)
    assert outcome_for(vn(2025, 3, 14, 17), due_at, VN) is Outcome.EARLY
    assert outcome_for(vn(2025, 3, 17, 16, 30), due_at, VN) is Outcome.ON_TIME
    assert outcome_for(vn(2025, 3, 18, 7), due_at, VN) is Outcome.LATE
    # 23:30 UTC on the 16th is already the 17th in Vietnam.
    assert outcome_for(datetime(2025, 3, 16, 23, 30, tzinfo=UTC), due_at, VN) is Outcome.ON_TIME


def dossier(**changes: object) -> SlaInput:
    # Fri 14/3/2025 16:00 with two days -> due Tue 18/3 16:00.
    fields: dict[str, object] = {"accepted_at": vn(2025, 3, 14, 16), "statutory": TWO_DAYS}
    fields.update(changes)
    return SlaInput(**fields)  # type: ignore[arg-type]


def test_open_dossier_within_due_soon_overdue() -> None:
    # Mon 17/3 10:00: 90 + 210 on Monday and 420 on Tuesday remain = 720 > 480: within.
    a = assess(CAL, dossier(), vn(2025, 3, 17, 10))
    assert a.state is DeadlineState.WITHIN
    assert a.remaining_working_minutes == 720
    assert a.elapsed_working_minutes == 60 + 180
    # Due soon once 480 working minutes remain: Mon 16:00.
    assert a.due_soon_at == vn(2025, 3, 17, 16)
    assert assess(CAL, dossier(), vn(2025, 3, 17, 16)).state is DeadlineState.DUE_SOON
    # The evening before, nothing more elapses: still 420 left, still due soon.
    evening = assess(CAL, dossier(), vn(2025, 3, 17, 20))
    assert (evening.state, evening.remaining_working_minutes) == (DeadlineState.DUE_SOON, 420)
    # At the due instant itself it is still due soon; a minute later it is overdue.
    assert assess(CAL, dossier(), vn(2025, 3, 18, 16)).state is DeadlineState.DUE_SOON
    late = assess(CAL, dossier(), vn(2025, 3, 18, 16, 1))
    assert (late.state, late.remaining_working_minutes) == (DeadlineState.OVERDUE, -1)
    assert late.outcome is None


def test_not_started_and_paused() -> None:
    assert assess(CAL, dossier(accepted_at=None), vn(2025, 3, 17)).state is (
        DeadlineState.NOT_STARTED
    )
    # Paused on Mon 17/3 at 09:00 after 60 + 120 working minutes: 780 of 960 are frozen.
    paused = assess(CAL, dossier(pauses=(Pause(vn(2025, 3, 17, 9)),)), vn(2025, 3, 20, 10))
    assert paused.state is DeadlineState.PAUSED
    assert (paused.due_at, paused.computed_due_at, paused.due_soon_at) == (None, None, None)
    assert paused.elapsed_working_minutes == 180
    assert paused.remaining_working_minutes == 780


def test_closed_pause_extends_the_due_date_and_is_not_elapsed_time() -> None:
    # Paused Mon 17/3 09:00-14:00: 150 + 30 working minutes -> due moves from Tue 16:00 by 180:
    # 60 to 17:00 then Wed 07:00 + 120 -> Wed 19/3 09:00.
    p = Pause(vn(2025, 3, 17, 9), vn(2025, 3, 17, 14))
    a = assess(CAL, dossier(pauses=(p,)), vn(2025, 3, 17, 15))
    assert a.due_at == vn(2025, 3, 19, 9)
    assert a.elapsed_working_minutes == 60 + 120 + 60


def test_more_than_one_supplement_request_is_late() -> None:
    # Completed early by the dates (Mon 17/3, due Tue 18/3) but with two supplement requests.
    done = assess(
        CAL, dossier(supplement_count=2, completed_at=vn(2025, 3, 17, 10)), vn(2025, 4, 1)
    )
    assert (done.outcome, done.late_by_supplements, done.state) == (Outcome.LATE, True, None)
    # Still open and well within the dates: overdue all the same.
    open_ = assess(CAL, dossier(supplement_count=2), vn(2025, 3, 17, 10))
    assert open_.state is DeadlineState.OVERDUE
    # One supplement request is fine.
    one = assess(CAL, dossier(supplement_count=1, completed_at=vn(2025, 3, 17, 10)), vn(2025, 4, 1))
    assert one.outcome is Outcome.EARLY


def test_source_due_date_is_authoritative_and_disagreement_is_flagged() -> None:
    # Ours is Tue 18/3 16:00; the source says Wed 19/3 17:00. Completed Wed 10:00: late by ours,
    # on time by the source's, which decides.
    a = assess(
        CAL,
        dossier(source_due_at=vn(2025, 3, 19, 17), completed_at=vn(2025, 3, 19, 10)),
        vn(2025, 4, 1),
    )
    assert a.due_at == vn(2025, 3, 19, 17)
    assert a.computed_due_at == vn(2025, 3, 18, 16)
    assert a.due_date_disagrees
    assert a.outcome is Outcome.ON_TIME
    # Same day, different time of day: no disagreement.
    same_day = assess(CAL, dossier(source_due_at=vn(2025, 3, 18, 17)), vn(2025, 3, 17))
    assert not same_day.due_date_disagrees


def test_withdrawn_counts_as_on_time() -> None:
    # Withdrawn a week after the due date, even with two supplement requests.
    a = assess(
        CAL,
        dossier(withdrawn=True, completed_at=vn(2025, 3, 25, 9), supplement_count=2),
        vn(2025, 4, 1),
    )
    assert (a.outcome, a.state) == (Outcome.ON_TIME, None)


def test_apology_does_not_move_the_due_date() -> None:
    late = {"completed_at": vn(2025, 3, 20, 9)}
    with_apology = assess(CAL, dossier(apology_issued=True, **late), vn(2025, 4, 1))
    without = assess(CAL, dossier(**late), vn(2025, 4, 1))
    assert with_apology == without
    assert with_apology.outcome is Outcome.LATE


def test_a_pause_open_at_completion_ends_there() -> None:
    # Paused Mon 17/3 09:00 and never resumed, decided Thu 20/3 10:00: the pause ran until the
    # decision, so the clock still had 780 minutes and the dossier is early.
    a = assess(
        CAL,
        dossier(pauses=(Pause(vn(2025, 3, 17, 9)),), completed_at=vn(2025, 3, 20, 10)),
        vn(2025, 4, 1),
    )
    assert a.outcome is Outcome.EARLY
    assert a.elapsed_working_minutes == 180


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        SlaInput(accepted_at=datetime(2025, 3, 14, 16), statutory=ONE_DAY)
    with pytest.raises(ValueError, match="aware"):
        Pause(datetime(2025, 3, 14, 16))
    with pytest.raises(ValueError, match="aware"):
        assess(CAL, dossier(), datetime(2025, 3, 17))


def test_statutory_time_validation() -> None:
    with pytest.raises(ValueError):
        StatutoryTime(0, TimeUnit.WORKING_DAYS)
    with pytest.raises(ValueError):
        StatutoryTime(1, "fortnights")  # type: ignore[arg-type]
    assert StatutoryTime(1, "working_hours").unit is TimeUnit.WORKING_HOURS  # type: ignore[arg-type]


def test_enums_match_the_contracts() -> None:
    assert [e.value for e in Outcome] == [e.value for e in contracts.Outcome]
    assert [e.value for e in DeadlineState] == [e.value for e in contracts.DeadlineState]
