"""The dossier aggregate: reports in any order, duplicates, impossible steps, derived facts."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.dossiers.domain.dossier import Dossier, Entry, Rejected, Report
from services.dossiers.domain.sla import Pause
from services.dossiers.domain.status import NEXT

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 10, 5, 8, tzinfo=VN)
CODE = "H99.01-261005-0001"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rep(status: int, minute: int, **kwargs: Any) -> Report:
    return Report(CODE, status, at(minute), **kwargs)


def dossier(*reports: Report) -> Dossier:
    d = Dossier(CODE, "H99.01", "1.005342")
    for r in reports:
        d.apply(r)
    return d


def statuses(d: Dossier) -> list[int]:
    return [e.status for e in d.history]


def state(d: Dossier) -> tuple[Any, ...]:
    """Everything but the version, which counts changes and so may depend on arrival order."""
    return (d.history, d.status, d.facts, d.supplements, d.personal, d.unit_code,
            d.procedure_code, d.pauses(), d.supplement_count(), d.accepted_at(),
            d.completed_at())


# -- any arrival order ends in the same dossier --------------------------------------------

UNITS = ["H99.01", "H99.02", "H99.50.01"]


@st.composite
def lifecycles(draw: st.DrawFn) -> list[Report]:
    """A legal lifecycle with strictly increasing times, told by a mix of sources: DVCQG-like
    syncs (unit, due date, flags, supplement list and personal data as of that time), bare
    progress steps, and native events with a few facts of their own."""
    chain = [1, 2] if draw(st.booleans()) else [2]
    for _ in range(draw(st.integers(0, 7))):
        options = sorted(NEXT[chain[-1]])
        if not options:
            break
        chain.append(draw(st.sampled_from(options)))
    gaps = draw(st.lists(st.integers(1, 3000), min_size=len(chain), max_size=len(chain)))
    reports = []
    for status, minute in zip(chain, accumulate(gaps), strict=True):
        kind = draw(st.sampled_from(["sync", "step", "native"]))
        if kind == "step":
            reports.append(rep(status, minute))
            continue
        facts: dict[str, Any] = {
            "source_due_at": at(draw(st.integers(5000, 20000))) if kind == "sync" else None,
            "paid_online": draw(st.none() | st.booleans()),
            "channel": draw(st.sampled_from([1, 2, 3])),
        }
        supplements = None
        if kind == "sync":
            starts = draw(st.lists(st.integers(0, 10000), max_size=3, unique=True))
            supplements = tuple(Pause(at(s), at(s + 60)) for s in sorted(starts))
        reports.append(rep(
            status, minute,
            unit_code=draw(st.sampled_from(UNITS)) if kind == "sync" else None,
            procedure_code=draw(st.sampled_from(["1.005342", "1.004581"])),
            facts=facts,
            supplements=supplements,
            personal={"phone": draw(st.sampled_from(["0912000001", "0912000002"]))},
            apology_issued=draw(st.booleans()),
        ))
    return reports


@settings(max_examples=150, deadline=None)
@given(reports=lifecycles(), data=st.data())
def test_any_arrival_order_ends_in_the_same_dossier(reports: list[Report],
                                                    data: st.DataObject) -> None:
    in_order = dossier(*reports)
    shuffled = dossier(*data.draw(st.permutations(reports)))
    assert state(shuffled) == state(in_order)
    # Every report of a lifecycle adds one entry, so each is one change whatever the order.
    assert shuffled.version == in_order.version == len(reports)


@settings(max_examples=60, deadline=None)
@given(reports=lifecycles(), data=st.data())
def test_every_report_applied_again_is_a_no_op(reports: list[Report],
                                               data: st.DataObject) -> None:
    d = dossier(*data.draw(st.permutations(reports)))
    before = copy.deepcopy(d)
    for r in data.draw(st.permutations(reports)):
        assert d.apply(r) is False
    assert d == before


def test_the_newest_sync_wins_whatever_arrives_last() -> None:
    old = rep(2, 0, unit_code="H99.01", facts={"source_due_at": at(5000)},
              supplements=(), personal={"phone": "0912000001"})
    new = rep(5, 600, unit_code="H99.02", facts={"source_due_at": at(9000)},
              supplements=(Pause(at(600)),), personal={"phone": "0912000002"})
    step = rep(4, 300)
    for order in [(old, step, new), (new, step, old), (step, new, old), (new, old, step)]:
        d = dossier(*order)
        assert d.facts["source_due_at"] == at(9000), order
        assert d.supplements == (Pause(at(600)),)
        assert d.personal == {"phone": "0912000002"}
        assert d.unit_code == "H99.02"
        assert statuses(d) == [2, 4, 5]


# -- duplicates and impossible reports -------------------------------------------------------

def test_a_duplicate_report_changes_nothing() -> None:
    accepted = rep(2, 0, facts={"channel": 2}, personal={"holder_name": "Nguyễn Văn Mẫu"})
    d = Dossier(CODE, "H99.01", "1.005342")
    assert d.apply(accepted) is True and d.version == 1
    assert d.apply(accepted) is False
    assert d.version == 1 and statuses(d) == [2]
    # The same statement in a new envelope (a new frozen Report equal to the first) too.
    assert d.apply(rep(2, 0, facts={"channel": 2})) is False and d.version == 1


def test_new_facts_without_a_new_status_are_a_change() -> None:
    d = dossier(rep(2, 0))
    assert d.apply(rep(2, 0, facts={"paid_online": True})) is True
    assert d.version == 2 and d.facts["paid_online"] is True and statuses(d) == [2]


@pytest.mark.parametrize(("history", "late", "words"), [
    ([(2, 0), (4, 10), (9, 20), (10, 30)], (4, 40), ["4 (in processing)", "cannot follow",
                                                     "10 (result returned)"]),
    ([(1, 0), (3, 10)], (4, 20), ["cannot follow", "3 (refused at intake)"]),
    ([(2, 0), (7, 10)], (9, 20), ["cannot follow", "7 (withdrawn)"]),
    ([(2, 0), (4, 10)], (1, 20), ["1 (submitted)", "cannot follow", "4 (in processing)"]),
    ([(2, 0), (9, 10)], (4, 20), ["4 (in processing)", "cannot follow", "9 (decided"]),
    # An older report that the newer history cannot come after.
    ([(1, 0), (9, 30)], (3, 10), ["3 (refused at intake)", "cannot precede", "9 (decided"]),
    ([(2, 0), (4, 30)], (1, 10), ["1 (submitted)", "cannot follow", "2 (accepted)"]),
])
def test_an_impossible_report_is_rejected_and_changes_nothing(
        history: list[tuple[int, int]], late: tuple[int, int], words: list[str]) -> None:
    d = dossier(*(rep(s, m, facts={"channel": 1}) for s, m in history))
    before = copy.deepcopy(d)
    with pytest.raises(Rejected) as caught:
        d.apply(rep(*late, unit_code="H99.02", facts={"channel": 2},
                    personal={"phone": "0912000009"}, apology_issued=True))
    assert caught.value.code == "impossible_transition"
    for word in words:
        assert word in caught.value.reason
    assert at(late[1]).isoformat() in caught.value.reason
    assert str(caught.value) == caught.value.reason
    assert d == before


def test_an_unknown_status_is_rejected_with_its_code() -> None:
    d = dossier(rep(2, 0))
    with pytest.raises(Rejected) as caught:
        d.apply(rep(42, 10))
    assert caught.value.code == "unknown_status"
    assert "42" in caught.value.reason
    assert statuses(d) == [2] and d.version == 1


# -- same-instant reports -------------------------------------------------------------------

def test_reports_at_the_same_instant_sort_by_the_order_they_can_happen() -> None:
    d = dossier(rep(9, 0), rep(4, 0), rep(2, 0))
    assert statuses(d) == [2, 4, 9] and d.status == 9


def test_same_instant_pauses_sort_the_same_whatever_arrives_first() -> None:
    a = dossier(rep(2, 0), rep(5, 10), rep(6, 10))
    b = dossier(rep(2, 0), rep(6, 10), rep(5, 10))
    assert statuses(a) == statuses(b)
    assert a.status == b.status


# -- derived facts ----------------------------------------------------------------------------

def test_pauses_come_from_the_history() -> None:
    d = dossier(rep(2, 0), rep(4, 10), rep(5, 20), rep(6, 30), rep(4, 50), rep(8, 70),
                rep(9, 90))
    # 5 then 6 is one stop of the clock; a decision ends a suspension.
    assert d.pauses() == (Pause(at(20), at(50)), Pause(at(70), at(90)))


def test_a_pause_still_on_is_open() -> None:
    d = dossier(rep(2, 0), rep(4, 10), rep(5, 20))
    assert d.pauses() == (Pause(at(20), None),)


def test_history_pauses_merge_with_the_dvcqg_supplement_list() -> None:
    d = dossier(rep(2, 0), rep(4, 10), rep(5, 20), rep(4, 50), rep(4, 200, supplements=(
        # The same request as in the history, seen by the source a little earlier...
        Pause(at(15), at(30)),
        # ...and one the history never showed.
        Pause(at(100), at(120)),
    )))
    assert d.pauses() == (Pause(at(15), at(50)), Pause(at(100), at(120)))


def test_an_open_pause_swallows_later_supplements() -> None:
    d = dossier(rep(2, 0), rep(5, 20, supplements=(Pause(at(100), at(120)),)))
    assert d.pauses() == (Pause(at(20), None),)


@pytest.mark.parametrize(("chain", "listed", "count"), [
    ([2, 4], 0, 0),
    ([2, 4, 5, 4], 0, 1),
    ([2, 4, 5, 5, 4], 0, 1),  # one request reported twice
    ([2, 4, 5, 4, 5, 4], 0, 2),
    ([2, 5, 6, 5], 0, 2),
    ([2, 4, 5, 4], 1, 1),  # the source lists the one request the history shows
    ([2, 4, 5, 4], 3, 3),
])
def test_supplement_count(chain: list[int], listed: int, count: int) -> None:
    supplements = tuple(Pause(at(1000 + i), at(1001 + i)) for i in range(listed))
    d = dossier(*(rep(s, i * 10) for i, s in enumerate(chain)),
                rep(chain[-1], 2000, supplements=supplements))
    assert d.supplement_count() == count


def test_accepted_at_is_the_stated_acceptance_else_the_first_2() -> None:
    assert dossier(rep(1, 0), rep(4, 30)).accepted_at() is None
    assert dossier(rep(1, 0), rep(2, 10), rep(4, 30)).accepted_at() == at(10)
    stated = dossier(rep(4, 30, facts={"accepted_at": at(5)}), rep(2, 10))
    assert stated.accepted_at() == at(5)


def test_completed_at_is_the_end_of_processing() -> None:
    assert dossier(rep(2, 0), rep(4, 10)).completed_at() is None
    assert dossier(rep(2, 0), rep(9, 20), rep(10, 30)).completed_at() == at(20)
    assert dossier(rep(2, 0), rep(10, 30)).completed_at() == at(30)
    assert dossier(rep(2, 0), rep(7, 40)).completed_at() == at(40)
    assert dossier(rep(1, 0), rep(3, 5)).completed_at() == at(5)
    # NgayKetThucXuLy as the source states it, once the dossier is decided.
    stated = dossier(rep(2, 0), rep(10, 30, facts={"completed_at": at(25)}))
    assert stated.completed_at() == at(25)
    # A stated end of processing means nothing while the dossier is open or withdrawn.
    assert dossier(rep(2, 0), rep(4, 10, facts={"completed_at": at(25)})).completed_at() is None
    withdrawn = dossier(rep(2, 0, facts={"completed_at": at(25)}), rep(7, 40))
    assert withdrawn.completed_at() == at(40)


def test_only_the_newest_report_moves_the_dossier_to_another_unit() -> None:
    d = dossier(rep(2, 0, unit_code="H99.01"), rep(4, 20, unit_code="H99.02"))
    assert d.unit_code == "H99.02"
    assert d.apply(rep(4, 10, unit_code="H99.03")) is True  # older: a history entry only
    assert d.unit_code == "H99.02"
    # A progress step names no unit and moves nothing.
    d.apply(rep(5, 30))
    assert d.unit_code == "H99.02"
    d.apply(rep(4, 40, unit_code="H99.50.01"))
    assert d.unit_code == "H99.50.01"


def test_apology_is_dated_by_the_earliest_report_of_it() -> None:
    first = rep(4, 100, apology_issued=True, facts={"apology_new_due_at": at(9000)})
    second = rep(5, 200, apology_issued=True, facts={"apology_new_due_at": at(9900)})
    for order in [(first, second), (second, first)]:
        d = dossier(rep(2, 0), *order)
        assert d.facts["apology_issued_at"] == at(100)
        # The new date the applicant was given last is the one that stands.
        assert d.facts["apology_new_due_at"] == at(9900)
    assert "apology_issued_at" not in dossier(rep(2, 0), rep(4, 10)).facts


def test_personal_data_is_kept_and_never_blanked() -> None:
    d = dossier(rep(2, 0, personal={"holder_name": "Trần Thị B", "phone": "0912345678"}),
                rep(4, 10, personal={"holder_name": "", "email": "b@example.vn"}))
    assert d.personal == {"holder_name": "Trần Thị B", "phone": "0912345678",
                          "email": "b@example.vn"}
    assert "holder_name" not in d.facts


def test_history_entries_are_what_was_reported() -> None:
    d = dossier(rep(2, 0), rep(4, 10))
    assert d.history == [Entry(2, at(0)), Entry(4, at(10))]
