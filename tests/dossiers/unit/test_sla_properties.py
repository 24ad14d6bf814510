"""Properties of the working calendar and the SLA clock, on the real calendar (2024-2027)."""

from contextlib import suppress
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.calendar_data import load_calendar
from services.common.workcalendar import WorkingCalendar
from services.dossiers.domain.sla import (
    DeadlineState,
    Pause,
    SlaInput,
    StatutoryTime,
    TimeUnit,
    assess,
    compute_due,
)
from tests.common.unit.test_workcalendar_properties import BERLIN_CAL, result
from tests.common.unit.test_workcalendar_properties import instants as calendar_instants
from tests.common.unit.workcalendar_reference import ReferenceCalendar
from tests.dossiers.unit.sla_reference import reference_assess, reference_compute_due

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = load_calendar()
MINUTE = timedelta(minutes=1)
quick = settings(max_examples=200, deadline=None)

instants = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2026, 6, 30),
    timezones=st.sampled_from([VN, UTC]),
)
# Whole minutes in Vietnam time, where sums of floored minutes are exact.
minute_instants = st.builds(
    lambda d: d.replace(second=0, microsecond=0),
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2026, 6, 30), timezones=st.just(VN)
    ),
)
minutes = st.integers(min_value=0, max_value=40 * 480)
statutory = st.one_of(
    st.builds(
        StatutoryTime, st.integers(1, 120).map(lambda n: n / 2), st.just(TimeUnit.WORKING_DAYS)
    ),
    st.builds(StatutoryTime, st.integers(1, 200), st.just(TimeUnit.WORKING_HOURS)),
    st.builds(StatutoryTime, st.integers(1, 60), st.just(TimeUnit.CALENDAR_DAYS)),
)
# Closed pauses as (offset from acceptance, length), in minutes.
pause_shapes = st.lists(st.tuples(st.integers(0, 30_000), st.integers(0, 10_000)), max_size=3)


def pauses_after(accepted: datetime, shapes: list[tuple[int, int]]) -> tuple[Pause, ...]:
    return tuple(
        Pause(accepted + offset * MINUTE, accepted + (offset + length) * MINUTE)
        for offset, length in shapes
    )


def in_working_time(t: datetime, *, end_allowed: bool) -> bool:
    """Inside a working period of a working day; a period's end counts when `end_allowed`."""
    local = t.astimezone(VN)
    if not CAL.is_working_day(local.date()):
        return False
    clock = local.timetz().replace(tzinfo=None)
    if end_allowed:
        return any(s < clock <= e for s, e in CAL.hours.periods)
    return any(s <= clock < e for s, e in CAL.hours.periods)


@quick
@given(instants, minutes)
def test_due_instant_is_never_outside_working_time(start: datetime, m: int) -> None:
    due = CAL.add_working_minutes(start, m)
    assert due.tzinfo == VN
    assert due >= start
    assert in_working_time(due, end_allowed=m > 0)


@quick
@given(instants, statutory, pause_shapes)
def test_computed_due_is_working_time_and_after_acceptance(
    accepted: datetime, st_time: StatutoryTime, shapes: list[tuple[int, int]]
) -> None:
    due = compute_due(CAL, accepted, st_time, pauses_after(accepted, shapes))
    assert due is not None and due > accepted
    assert in_working_time(due, end_allowed=True)
    if st_time.unit is TimeUnit.CALENDAR_DAYS:
        assert due.astimezone(VN).time() == time(17)


@quick
@given(instants, minutes, minutes)
def test_due_is_monotonic_in_working_minutes(start: datetime, a: int, b: int) -> None:
    a, b = sorted((a, b))
    assert CAL.add_working_minutes(start, a) <= CAL.add_working_minutes(start, b)


@quick
@given(
    instants,
    st.integers(1, 120),
    st.integers(1, 120),
    st.sampled_from(list(TimeUnit)),
    pause_shapes,
)
def test_due_is_monotonic_in_statutory_time(
    accepted: datetime, x: int, y: int, unit: TimeUnit, shapes: list[tuple[int, int]]
) -> None:
    x, y = sorted((x, y))
    pauses = pauses_after(accepted, shapes)
    early = compute_due(CAL, accepted, StatutoryTime(x, unit), pauses)
    late = compute_due(CAL, accepted, StatutoryTime(y, unit), pauses)
    assert early is not None and late is not None and early <= late


@quick
@given(instants, statutory, pause_shapes)
def test_pauses_only_push_the_due_date_later(
    accepted: datetime, st_time: StatutoryTime, shapes: list[tuple[int, int]]
) -> None:
    pauses = pauses_after(accepted, shapes)
    plain = compute_due(CAL, accepted, st_time)
    with_pauses = compute_due(CAL, accepted, st_time, pauses)
    assert plain is not None and with_pauses is not None
    assert with_pauses >= plain
    # Dropping the last pause never moves it later either.
    fewer = compute_due(CAL, accepted, st_time, pauses[:-1])
    assert fewer is not None and fewer <= with_pauses


@quick
@given(instants, minutes)
def test_minutes_between_inverts_adding(start: datetime, m: int) -> None:
    assert CAL.working_minutes_between(start, CAL.add_working_minutes(start, m)) == m


@quick
@given(instants)
def test_next_working_instant_is_idempotent(at: datetime) -> None:
    first = CAL.next_working_instant(at)
    assert first >= at
    assert CAL.next_working_instant(first) == first
    assert in_working_time(first, end_allowed=False)
    assert CAL.working_minutes_between(at, first) == 0


@quick
@given(instants, minutes, minutes)
def test_subtract_finds_the_earliest_instant_with_that_much_left(
    start: datetime, lead: int, m: int
) -> None:
    m = min(m, lead)  # stay after `start`, inside the calendar's years
    end = CAL.add_working_minutes(start, lead + 1)
    t = CAL.subtract_working_minutes(end, m)
    assert CAL.working_time_between(t, end) <= m * MINUTE
    assert CAL.working_time_between(t - timedelta(seconds=1), end) > m * MINUTE


@quick
@given(
    minute_instants, statutory, minute_instants.map(lambda d: d - datetime(2024, 1, 1, tzinfo=VN))
)
def test_open_state_agrees_with_due_soon_at(
    accepted: datetime, st_time: StatutoryTime, shift: timedelta
) -> None:
    now = accepted + shift / 10
    a = assess(CAL, SlaInput(accepted, st_time), now)
    assert a.due_at is not None and a.due_soon_at is not None
    assert a.due_soon_at <= a.due_at
    if now > a.due_at:
        assert a.state is DeadlineState.OVERDUE
    elif now >= a.due_soon_at:
        assert a.state is DeadlineState.DUE_SOON
    else:
        assert a.state is DeadlineState.WITHIN


@quick
@given(
    minute_instants,
    st.integers(1, 120),
    st.tuples(st.integers(0, 5000), st.integers(0, 5000)),
    st.integers(0, 5000),
)
def test_elapsed_plus_remaining_is_the_statutory_time(
    accepted: datetime, half_days: int, pause: tuple[int, int], after: int
) -> None:
    st_time = StatutoryTime(half_days / 2, TimeUnit.WORKING_DAYS)
    (p,) = pauses_after(accepted, [pause])
    assert p.end is not None
    now = p.end + after * MINUTE
    a = assess(CAL, SlaInput(accepted, st_time, pauses=(p,)), now)
    assert a.elapsed_working_minutes is not None and a.remaining_working_minutes is not None
    if a.state is not DeadlineState.OVERDUE:
        assert a.elapsed_working_minutes + a.remaining_working_minutes == half_days * 240


# The current clock against the original one (sla_reference.py) on the day-by-day
# reference calendar: the same assessment field by field, or the same error, on any input.
REAL_REF = ReferenceCalendar.like(CAL)
BERLIN_REF = ReferenceCalendar.like(BERLIN_CAL)


def sometimes(strategy: st.SearchStrategy[Any], in_four: int) -> st.SearchStrategy[Any]:
    """`strategy` in `in_four` draws out of four, else None."""
    return st.integers(0, 3).flatmap(lambda n: strategy if n < in_four else st.none())


SlaCase = tuple[WorkingCalendar, ReferenceCalendar, SlaInput, datetime, int]


@st.composite
def sla_cases(draw: st.DrawFn) -> SlaCase:
    """Mostly open dossiers, with instants near acceptance, period bounds and calendar edges;
    a due-soon threshold sometimes equal to the whole statutory time (the `<=` edge)."""
    cal, ref = draw(st.sampled_from([(CAL, REAL_REF), (BERLIN_CAL, BERLIN_REF)]))
    inside = st.datetimes(datetime(cal.first_year, 2, 1), datetime(cal.last_year, 9, 30),
                          timezones=st.just(cal.hours.tz))
    at = st.one_of(inside, inside, inside, calendar_instants(cal))
    accepted = draw(sometimes(at, 3))
    near = at if accepted is None else st.one_of(
        at, st.timedeltas(-timedelta(days=2), timedelta(days=60)).map(lambda d: accepted + d)
    )
    lengths = st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=20)))
    pauses = tuple(
        Pause(start, None if length is None else start + length)
        for start, length in draw(st.lists(st.tuples(near, lengths), max_size=3))
    )
    sla = SlaInput(
        accepted_at=accepted,
        statutory=draw(sometimes(statutory, 4)),
        pauses=pauses,
        supplement_count=draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3])),
        source_due_at=draw(sometimes(near, 1)),
        completed_at=draw(sometimes(near, 1)),
        withdrawn=draw(st.sampled_from([False] * 7 + [True])),
        apology_issued=draw(st.booleans()),
    )
    whole = sla.statutory.working_minutes(cal.hours) if sla.statutory else None
    soon = draw(st.sampled_from([480, draw(st.integers(0, 3000)), whole or 480]))
    due = None
    if accepted is not None and sla.statutory is not None:
        with suppress(ValueError):
            due = reference_compute_due(ref, accepted, sla.statutory, pauses)
    if due is not None and draw(st.booleans()):  # around the due instant: due soon, overdue
        return cal, ref, sla, due + draw(st.integers(-3000, 600)) * MINUTE, soon
    return cal, ref, sla, draw(near), soon


@settings(max_examples=300, deadline=None)
@given(sla_cases())
def test_assess_matches_the_original(case: SlaCase) -> None:
    cal, ref, sla, now, soon = case
    assert result(assess, cal, sla, now, soon) == result(reference_assess, ref, sla, now, soon)
    if sla.accepted_at is not None and sla.statutory is not None:
        args = (sla.accepted_at, sla.statutory, sla.pauses)
        assert result(compute_due, cal, *args) == result(reference_compute_due, ref, *args)
