"""The SLA assessment as it was before the fast calendar: `compute_due`, `assess` and
`_due_soon_at` copied unchanged (renamed), for test_sla_properties.py to compare the current ones
with, and for bench/bench_calendar.py to measure them against. Run it on
`ReferenceCalendar.like(calendar)` to get the original end to end. Evidence: do not edit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

from services.common.workcalendar import WorkingCalendar
from services.dossiers.domain.sla import (
    DeadlineState,
    Outcome,
    Pause,
    SlaAssessment,
    SlaInput,
    StatutoryTime,
    _aware,
    _run,
    _spans,
    outcome_for,
)

_ZERO = timedelta(0)
_MINUTE = timedelta(minutes=1)


def reference_compute_due(
    calendar: WorkingCalendar,
    accepted_at: datetime,
    statutory: StatutoryTime,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """The due instant, in the calendar's zone; None while a pause that began before it lasts.

    Working units: the instant the statutory working time has fully elapsed from acceptance,
    pauses not counting (a due instant ending a period is that period's end, e.g. 17:00). A pause
    that starts at or after the due instant changes nothing: the time had already run out.

    Calendar days (Civil Code arts. 147-148): counting starts the day after acceptance and the
    period ends with the Nth day; closed pauses push that end later by their calendar duration
    (any part of a day moves it a whole day). A last day that is not a working day moves to the
    next working day. The due instant is the end of that day's last working period (17:00), as a
    receipt prints it.
    """
    _aware(accepted_at, "accepted_at")
    spans = _spans(pauses, accepted_at)
    minutes = statutory.working_minutes(calendar.hours)
    if minutes is not None:
        return _run(
            accepted_at,
            timedelta(minutes=minutes),
            spans,
            calendar.add_working_time,
            calendar.working_time_between,
        )
    tz = calendar.hours.tz
    first_uncounted = accepted_at.astimezone(tz).date() + timedelta(days=int(statutory.amount) + 1)
    period_end = datetime.combine(first_uncounted, time(0), tz)
    end = _run(
        accepted_at,
        period_end - accepted_at,
        spans,
        lambda a, d: a.astimezone(UTC) + d,
        lambda a, b: b.astimezone(UTC) - a.astimezone(UTC),
    )
    if end is None:
        return None
    last_day = (end - timedelta(microseconds=1)).astimezone(tz).date()
    while not calendar.is_working_day(last_day):
        last_day += timedelta(days=1)
    return datetime.combine(last_day, calendar.hours.periods[-1][1], tz)



def reference_assess(
    calendar: WorkingCalendar, sla: SlaInput, now: datetime, due_soon_minutes: int = 480
) -> SlaAssessment:
    """The dossier's deadline as of `now`.

    Precedence, closed (completed or withdrawn): withdrawn is on time; then more than one
    supplement request is late; then the day rule against `due_at` (None if there is no due
    date). Open: not accepted is NOT_STARTED; then more than one supplement request is OVERDUE;
    then an open pause that began before `due_at` (or with no due date yet) is PAUSED; then
    OVERDUE once `now` is past `due_at`, DUE_SOON when at most `due_soon_minutes` of working
    time remain, else WITHIN; None when there is no due date at all. A pause still open at
    completion is taken to end there. While PAUSED, `remaining_working_minutes` is the frozen
    balance of the statutory working time (None for calendar days).
    """
    _aware(now, "now")
    if due_soon_minutes < 0:
        raise ValueError(f"due_soon_minutes must not be negative, got {due_soon_minutes}")
    tz = calendar.hours.tz
    closed = sla.withdrawn or sla.completed_at is not None
    until = sla.completed_at or now
    pauses = sla.pauses
    if sla.completed_at is not None:
        pauses = tuple(Pause(p.start, p.end or max(p.start, sla.completed_at)) for p in pauses)
    computed = None
    if sla.accepted_at is not None and sla.statutory is not None:
        computed = reference_compute_due(calendar, sla.accepted_at, sla.statutory, pauses)
    due_at = sla.source_due_at or computed
    disagrees = (
        computed is not None
        and sla.source_due_at is not None
        and computed.astimezone(tz).date() != sla.source_due_at.astimezone(tz).date()
    )
    late_by_supplements = sla.supplement_count > 1
    elapsed = None
    spans: list[tuple[datetime, datetime | None]] = []
    if sla.accepted_at is not None:
        spans = _spans(pauses, sla.accepted_at)
        worked = calendar.working_time_between(sla.accepted_at, until) - sum(
            (calendar.working_time_between(s, min(e or until, until)) for s, e in spans), _ZERO
        )
        elapsed = max(worked, _ZERO) // _MINUTE

    outcome = state = remaining = due_soon_at = None
    if closed:
        if sla.withdrawn:
            outcome = Outcome.ON_TIME
        elif late_by_supplements:
            outcome = Outcome.LATE
        elif due_at is not None and sla.completed_at is not None:
            outcome = outcome_for(sla.completed_at, due_at, tz)
    elif sla.accepted_at is None:
        state = DeadlineState.NOT_STARTED
    else:
        open_pause = spans[-1][0] if spans and spans[-1][1] is None else None
        if open_pause is not None and (due_at is None or open_pause < due_at):
            state = DeadlineState.PAUSED
            minutes = sla.statutory.working_minutes(calendar.hours) if sla.statutory else None
            remaining = None if minutes is None or elapsed is None else minutes - elapsed
        elif due_at is not None:
            due_soon_at = _ref_due_soon_at(calendar, sla.accepted_at, due_at, due_soon_minutes)
            if now > due_at:
                state = DeadlineState.OVERDUE
                remaining = -(calendar.working_time_between(due_at, now) // _MINUTE)
            else:
                left = calendar.working_time_between(now, due_at)
                remaining = left // _MINUTE
                soon = left <= due_soon_minutes * _MINUTE
                state = DeadlineState.DUE_SOON if soon else DeadlineState.WITHIN
        if late_by_supplements:
            state = DeadlineState.OVERDUE
    return SlaAssessment(
        due_at=due_at,
        computed_due_at=computed,
        source_due_at=sla.source_due_at,
        due_date_disagrees=disagrees,
        outcome=outcome,
        state=state,
        remaining_working_minutes=remaining,
        elapsed_working_minutes=elapsed,
        due_soon_at=due_soon_at,
        late_by_supplements=late_by_supplements,
    )


def _ref_due_soon_at(
    calendar: WorkingCalendar, accepted_at: datetime, due_at: datetime, minutes: int
) -> datetime:
    """The earliest instant with at most `minutes` of working time left before `due_at`, but
    not before acceptance: a dossier with less than that from the outset is due soon at once
    (and the calendar need not reach back before its first year)."""
    threshold = minutes * _MINUTE
    if calendar.working_time_between(accepted_at, due_at) <= threshold:
        return min(accepted_at, due_at).astimezone(calendar.hours.tz)
    return calendar.subtract_working_time(due_at, threshold)
