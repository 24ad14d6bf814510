"""The SLA clock of a dossier (DOMAIN.md, "Deadlines: the SLA clock"). Pure; time is passed in.

The clock starts at acceptance and stops during pauses (statuses 5, 6, 8). Lateness is judged by
local calendar day against the source's due date when it sent one, else against our own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from services.common.workcalendar import WorkingCalendar, WorkingHours

_ZERO = timedelta(0)
_MINUTE = timedelta(minutes=1)


class TimeUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"


class Outcome(StrEnum):
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


class DeadlineState(StrEnum):
    WITHIN = "within"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"
    NOT_STARTED = "not_started"


def _aware(at: datetime | None, what: str) -> None:
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise ValueError(f"{what} must be an aware datetime, got {at.isoformat()}")


@dataclass(frozen=True)
class StatutoryTime:
    """A procedure's statutory processing time. Calendar days must be whole."""

    amount: float
    unit: TimeUnit

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", TimeUnit(self.unit))
        if not (math.isfinite(self.amount) and self.amount > 0):
            raise ValueError(f"statutory time must be positive, got {self.amount}")
        if self.unit is TimeUnit.CALENDAR_DAYS and self.amount != int(self.amount):
            raise ValueError(f"calendar days must be whole, got {self.amount}")

    def working_minutes(self, hours: WorkingHours) -> int | None:
        """Working minutes, rounded (0.5 working day = 240); None for calendar days."""
        if self.unit is TimeUnit.WORKING_DAYS:
            return round(self.amount * hours.minutes_per_day)
        if self.unit is TimeUnit.WORKING_HOURS:
            return round(self.amount * 60)
        return None


@dataclass(frozen=True)
class Pause:
    """A stop of the clock; `end` None while it lasts."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.start, "pause start")
        _aware(self.end, "pause end")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"pause ends {self.end} before it starts {self.start}")


def _spans(pauses: Iterable[Pause], since: datetime) -> list[tuple[datetime, datetime | None]]:
    """Pauses clipped to start no earlier than `since`, sorted and merged; an open one is last."""
    merged: list[tuple[datetime, datetime | None]] = []
    for p in sorted(pauses, key=lambda p: p.start):
        if p.end is not None and p.end <= since:
            continue
        start = max(p.start, since)
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            end = None if last_end is None or p.end is None else max(last_end, p.end)
            merged[-1] = (last_start, end)
        else:
            merged.append((start, p.end))
    return merged


def compute_due(
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
    return _due(calendar, accepted_at, statutory, _spans(pauses, accepted_at))


def _due(
    calendar: WorkingCalendar,
    accepted_at: datetime,
    statutory: StatutoryTime,
    spans: list[tuple[datetime, datetime | None]],
) -> datetime | None:
    """compute_due with the pauses already clipped and merged (assess needs them as well)."""
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


def _run(
    start: datetime,
    amount: timedelta,
    spans: list[tuple[datetime, datetime | None]],
    add: Callable[[datetime, timedelta], datetime],
    between: Callable[[datetime, datetime], timedelta],
) -> datetime | None:
    """Runs a clock for `amount` from `start` through pause spans, with the given time measure."""
    cursor, remaining = start, amount
    for pause_start, pause_end in spans:
        candidate = add(cursor, remaining)
        if candidate <= pause_start:
            return candidate
        remaining -= between(cursor, pause_start)
        if pause_end is None:
            return None
        cursor = pause_end
    return add(cursor, remaining)


def outcome_for(completed_at: datetime, due_at: datetime, tz: ZoneInfo) -> Outcome:
    """Early / on time / late by local calendar day, as DOMAIN.md defines them."""
    done, due = completed_at.astimezone(tz).date(), due_at.astimezone(tz).date()
    if done < due:
        return Outcome.EARLY
    return Outcome.ON_TIME if done == due else Outcome.LATE


@dataclass(frozen=True)
class SlaInput:
    """What the clock needs to know about one dossier. `completed_at` is the end of processing
    (status 9) or, for a withdrawn dossier, the withdrawal; `apology_issued` never moves the due
    date used for lateness (the apology's new date is for the applicant only)."""

    accepted_at: datetime | None
    statutory: StatutoryTime | None
    pauses: tuple[Pause, ...] = ()
    supplement_count: int = 0
    source_due_at: datetime | None = None
    completed_at: datetime | None = None
    withdrawn: bool = False
    apology_issued: bool = False

    def __post_init__(self) -> None:
        for name in ("accepted_at", "source_due_at", "completed_at"):
            _aware(getattr(self, name), name)
        if self.supplement_count < 0:
            raise ValueError(f"supplement_count must not be negative, got {self.supplement_count}")


@dataclass(frozen=True)
class SlaAssessment:
    due_at: datetime | None  # decides lateness: source_due_at when sent, else computed_due_at
    computed_due_at: datetime | None
    source_due_at: datetime | None
    due_date_disagrees: bool  # both known and on different local calendar days
    outcome: Outcome | None  # closed dossiers only
    state: DeadlineState | None  # open dossiers only
    remaining_working_minutes: int | None  # open only; <= 0 once past due (floored minutes)
    elapsed_working_minutes: int | None
    due_soon_at: datetime | None  # when remaining working time reaches the due-soon threshold
    late_by_supplements: bool


def assess(
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
    spans: list[tuple[datetime, datetime | None]] = []
    if sla.accepted_at is not None:
        spans = _spans(pauses, sla.accepted_at)
        if sla.statutory is not None:
            computed = _due(calendar, sla.accepted_at, sla.statutory, spans)
    due_at = sla.source_due_at or computed
    disagrees = (
        computed is not None
        and sla.source_due_at is not None
        and computed.astimezone(tz).date() != sla.source_due_at.astimezone(tz).date()
    )
    late_by_supplements = sla.supplement_count > 1
    elapsed = None
    since_acceptance = _ZERO  # working time from acceptance to `until`, pauses included
    if sla.accepted_at is not None:
        since_acceptance = calendar.working_time_between(sla.accepted_at, until)
        worked = since_acceptance - sum(
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
            to_due = calendar.working_time_between(sla.accepted_at, due_at)
            due_soon_at = _due_soon_at(calendar, sla.accepted_at, due_at, due_soon_minutes, to_due)
            # Working time adds up over consecutive intervals, so when acceptance comes first the
            # time between now and due is the difference of two measures already taken (which
            # would already have raised for a date outside the calendar); else it is measured.
            if now > due_at:
                state = DeadlineState.OVERDUE
                if sla.accepted_at <= due_at:
                    late = since_acceptance - to_due
                else:
                    late = calendar.working_time_between(due_at, now)
                remaining = -(late // _MINUTE)
            else:
                if sla.accepted_at <= now:
                    left = to_due - since_acceptance
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


def _due_soon_at(
    calendar: WorkingCalendar,
    accepted_at: datetime,
    due_at: datetime,
    minutes: int,
    to_due: timedelta,
) -> datetime:
    """The earliest instant with at most `minutes` of working time left before `due_at`, but
    not before acceptance: a dossier with less than that from the outset (`to_due`, the working
    time from acceptance to due) is due soon at once, and the calendar need not reach back
    before its first year."""
    threshold = minutes * _MINUTE
    if to_due <= threshold:
        return min(accepted_at, due_at).astimezone(calendar.hours.tz)
    return calendar.subtract_working_time(due_at, threshold)
