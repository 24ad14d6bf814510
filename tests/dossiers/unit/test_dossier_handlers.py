"""The dossiers handlers over in-memory fakes: what each message commits and announces."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.common.calendar_data import load_calendar
from services.common.entrypoints import InboundMessage
from services.common.reference import load_province
from services.contracts import dossiers as ev
from services.contracts.base import Event
from services.contracts.inbound import FORMAT_DVCQG_PROGRESS, FORMAT_DVCQG_SYNC, FORMAT_NATIVE
from services.dossiers import handlers
from services.dossiers.adapters.repository import Derived
from services.dossiers.domain.dossier import Dossier
from services.dossiers.views import Context
from tests.dossiers.fakes import FakeDossierRepository, FakeUnitOfWork

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PROVINCE = load_province("demo")
CALENDAR = load_calendar()
CODE = "H99.01-261005-0001"
PERSONAL = {"holder_name": "Nguyễn Văn Mẫu", "holder_id_number": "001099012345",
            "email": "mau@example.vn", "phone": "0912345678"}


def t(day: int, hour: int, minute: int = 0, month: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


def ctx(now: datetime = t(6, 8)) -> Context:
    return Context(province=PROVINCE, calendar=CALENDAR, now=now)


def native(status: int, at: datetime, code: str = CODE, **extra: Any) -> dict[str, Any]:
    return {"dossier_code": code, "status": status, "status_at": at.isoformat(),
            "unit_code": "H99.01", "procedure_code": "1.005342", **extra}


_ids = iter(range(1, 1_000_000))


def msg(body: Any, fmt: str = FORMAT_NATIVE, message_id: str | None = "") -> InboundMessage:
    """A message with a fresh id unless one is given (None: no id at all)."""
    return InboundMessage(body=json.dumps(body, ensure_ascii=False).encode(),
                          message_id=message_id if message_id != "" else f"m-{next(_ids)}",
                          message_type=fmt, routing_key="test")


def send(uow: FakeUnitOfWork, body: Any, now: datetime = t(6, 8), **kwargs: Any) -> str:
    return handlers.handle_inbound(uow, msg(body, **kwargs), ctx(now))


def types(events: list[Event]) -> list[str]:
    return [e.TYPE for e in events]


def snap(event: Event) -> ev.DossierSnapshot:
    assert isinstance(event, ev.DossierEvent)
    return event.dossier


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


# -- acceptance, duplicates ---------------------------------------------------------------------

def test_accepted_dossier_is_announced_with_its_due_date(uow: FakeUnitOfWork) -> None:
    outcome = send(uow, native(2, t(5, 8), channel=2, **PERSONAL))
    assert outcome == "processed"
    events = uow.take()
    assert types(events) == ["dossier.accepted", "dossier.status_changed"]
    accepted, changed = events
    assert isinstance(changed, ev.DossierStatusChanged)
    assert (changed.from_status, changed.to_status) == (None, ev.Status.ACCEPTED)
    s = snap(accepted)
    assert s == snap(changed)
    assert (s.dossier_code, s.version, s.status, s.unit_code) == (CODE, 1, 2, "H99.01")
    assert s.accepted_at == t(5, 8)
    # 10 working days from Monday 5 Oct 2026 08:00.
    assert s.due_at == s.computed_due_at == t(19, 8)
    assert s.source_due_at is None and not s.due_date_disagrees
    assert s.deadline_state == ev.DeadlineState.WITHIN and not s.paused
    assert (s.channel, s.fee_bearing, s.outcome) == (ev.Channel.ONLINE, True, None)
    for e in events:
        body = e.model_dump_json()
        for value in PERSONAL.values():
            assert value not in body
        assert not set(PERSONAL) & set(json.loads(body)["dossier"])
    stored = uow.repo.get(CODE)
    assert stored is not None and stored.personal == PERSONAL and stored.version == 1


def test_a_redelivered_message_is_a_duplicate(uow: FakeUnitOfWork) -> None:
    body = native(2, t(5, 8))
    assert send(uow, body, message_id="once") == "processed"
    uow.take()
    assert send(uow, body, message_id="once") == "duplicate"
    assert uow.take() == []
    assert uow.repo.get(CODE).version == 1  # type: ignore[union-attr]
    assert ("dossiers.inbound", "once") in uow.processed


def test_a_message_without_id_is_deduplicated_by_content(uow: FakeUnitOfWork) -> None:
    body = native(2, t(5, 8))
    assert send(uow, body, message_id=None) == "processed"
    assert send(uow, body, message_id=None) == "duplicate"
    assert types(uow.take()) == ["dossier.accepted", "dossier.status_changed"]


def test_the_same_statement_under_a_new_id_emits_nothing(uow: FakeUnitOfWork) -> None:
    send(uow, native(2, t(5, 8)))
    uow.take()
    assert send(uow, native(2, t(5, 8))) == "processed"
    assert uow.take() == []
    assert uow.repo.get(CODE).version == 1  # type: ignore[union-attr]


# -- quarantine --------------------------------------------------------------------------------

def quarantined_one(uow: FakeUnitOfWork) -> dict[str, Any]:
    events = uow.take()
    assert types(events) == ["inbound.quarantined"]
    assert len(uow.quarantined) == 1
    item = uow.quarantined[0]
    q = events[0]
    assert isinstance(q, ev.MessageQuarantined)
    assert (q.quarantine_id, q.reason, q.unit_code) == (item["id"], item["reason"],
                                                        item["unit_code"])
    return item


def test_a_progress_step_for_an_unknown_dossier_is_quarantined(uow: FakeUnitOfWork) -> None:
    step = {"MaHoSo": CODE, "ThoiDiemXuLy": "20261005090000", "TrangThai": "4"}
    outcome = send(uow, {"service": "CapNhatTienDoHoSoMC", "data": [step]},
                   fmt=FORMAT_DVCQG_PROGRESS)
    assert outcome == "quarantined"
    item = quarantined_one(uow)
    assert item["reason_code"] == "unknown_dossier"
    assert CODE in item["reason"] and "DongBoHoSoMC" in item["reason"]
    assert (item["item_index"], item["source_format"]) == (0, FORMAT_DVCQG_PROGRESS)
    assert json.loads(item["raw_payload"]) == step
    assert uow.repo.rows == {}
    assert len(uow.processed) == 1  # handled: quarantined is an outcome, not a failure


@pytest.mark.parametrize(("changes", "code", "words"), [
    ({"unit_code": "H99.NOPE"}, "unknown_unit",
     ["'H99.NOPE'", "not in the unit registry", "'demo'"]),
    # Districts were abolished on 2025-07-01.
    ({"unit_code": "H99.41"}, "unknown_unit",
     ["'H99.41'", "Thành phố Bình Minh", "not valid on 2026-10-05", "until 2025-07-01"]),
    # A commune of the new structure did not exist before it.
    ({"unit_code": "H99.50.01", "status_at": t(20, 8, month=6, year=2025).isoformat()},
     "unknown_unit", ["'H99.50.01'", "not valid on 2025-06-20", "valid from 2025-07-01"]),
    ({"procedure_code": "9.999999"}, "unknown_procedure",
     ["'9.999999'", "not in the procedure catalogue"]),
])
def test_unknown_reference_data_is_quarantined_with_a_reason(
        uow: FakeUnitOfWork, changes: dict[str, Any], code: str, words: list[str]) -> None:
    body = {**native(2, t(5, 8)), **changes}
    assert send(uow, body) == "quarantined"
    item = quarantined_one(uow)
    assert item["reason_code"] == code
    for word in words:
        assert word in item["reason"]
    assert item["item_index"] is None and json.loads(item["raw_payload"]) == body
    assert uow.repo.rows == {}


def test_a_dossier_filed_before_the_merger_keeps_its_district(uow: FakeUnitOfWork) -> None:
    # Filed with a district in June 2025, decided after districts were abolished: the dossier
    # keeps the unit it was filed under.
    filed = t(20, 8, month=6, year=2025)
    body = native(2, filed, unit_code="H99.41")
    assert send(uow, body, now=filed) == "processed"
    decided = native(9, t(10, 10, month=7, year=2025), unit_code="H99.41")
    assert send(uow, decided, now=t(11, 8, month=7, year=2025)) == "processed"
    done = uow.take()[-1]
    assert isinstance(done, ev.DossierCompleted)
    assert snap(done).unit_code == "H99.41"
    # A new dossier under the district is still refused.
    assert send(uow, native(2, t(10, 8, month=7, year=2025), code="H99.41-250710-0001",
                            unit_code="H99.41")) == "quarantined"


def test_one_bad_dossier_of_a_sync_does_not_hold_up_the_others(uow: FakeUnitOfWork) -> None:
    def dvcqg(code: str, status: str, unit: str = "H99.01") -> dict[str, Any]:
        return {"MaHoSo": code, "MaTTHC": "1.005342", "DonViXuLy": unit,
                "TrangThaiHoSo": status, "NgayTiepNhan": "20261005080000",
                "ChuHoSo": "Trần Thị B", "SoDienThoai": "0987654321"}

    body = {"service": "DongBoHoSoMC", "data": [
        dvcqg("H99.01-A", "2"), dvcqg("H99.01-B", "2", unit="H99.NOPE"), dvcqg("H99.01-C", "2")]}
    assert send(uow, body, fmt=FORMAT_DVCQG_SYNC) == "quarantined"
    events = uow.take()
    assert [snap(e).dossier_code for e in events if e.TYPE == "dossier.accepted"] == [
        "H99.01-A", "H99.01-C"]
    assert [(q["item_index"], q["reason_code"]) for q in uow.quarantined] == [(1, "unknown_unit")]
    assert "Trần Thị B" not in str([e.model_dump_json() for e in events])


class Boom(Exception):
    pass


class BrokenRepository(FakeDossierRepository):
    """Fails to save while `broken`, like a database that went away mid-transaction."""

    broken = True

    def save(self, dossier: Dossier, derived: Derived, now: datetime) -> None:
        if self.broken:
            raise Boom
        super().save(dossier, derived, now)


def test_a_failed_message_leaves_nothing_behind() -> None:
    repo = BrokenRepository()
    uow = FakeUnitOfWork(repo)
    with pytest.raises(Boom):
        send(uow, native(2, t(5, 8)), message_id="retry-me")
    assert uow.take() == [] and uow.processed == set() and repo.rows == {}
    repo.broken = False
    # The broker redelivers it: it is processed, not a duplicate.
    assert send(uow, native(2, t(5, 8)), message_id="retry-me") == "processed"


# -- completion --------------------------------------------------------------------------------

def completed(events: list[Event]) -> ev.DossierCompleted:
    done = [e for e in events if isinstance(e, ev.DossierCompleted)]
    assert len(done) == 1
    return done[0]


def test_late_completion(uow: FakeUnitOfWork) -> None:
    send(uow, native(2, t(5, 8)))
    send(uow, native(4, t(5, 9)))
    uow.take()
    send(uow, native(9, t(22, 10)), now=t(22, 11))
    events = uow.take()
    assert types(events) == ["dossier.status_changed", "dossier.completed"]
    done = completed(events)
    assert done.outcome == ev.Outcome.LATE
    s = snap(done)
    assert (s.outcome, s.completed_at, s.status) == (ev.Outcome.LATE, t(22, 10), 9)
    assert s.deadline_state is None and s.needs_result is True


def test_completion_on_the_due_day_is_on_time(uow: FakeUnitOfWork) -> None:
    send(uow, native(2, t(5, 8)))
    send(uow, native(9, t(19, 16)), now=t(19, 17))
    assert completed(uow.take()).outcome == ev.Outcome.ON_TIME


def test_withdrawal_counts_as_on_time_even_past_the_due_date(uow: FakeUnitOfWork) -> None:
    send(uow, native(2, t(5, 8)))
    send(uow, native(7, t(26, 9)), now=t(26, 10))
    assert completed(uow.take()).outcome == ev.Outcome.ON_TIME


def test_a_second_supplement_request_is_overdue_at_once_and_only_once(
        uow: FakeUnitOfWork) -> None:
    for status, day in [(2, 5), (4, 5), (5, 6), (4, 7)]:
        send(uow, native(status, t(day, 9 + status)))
    uow.take()
    send(uow, native(5, t(8, 9)), now=t(8, 10))
    events = uow.take()
    # Late whatever happens now: announced overdue, not paused.
    assert types(events) == ["dossier.status_changed", "dossier.overdue"]
    overdue = snap(events[-1])
    assert overdue.supplement_count == 2
    assert overdue.deadline_state == ev.DeadlineState.OVERDUE
    # The announcement is a change of the dossier like any other: stored, and newer than all
    # events before it, so consumers that keep the highest version do not drop what follows.
    assert overdue.version > snap(events[-2]).version
    stored = uow.repo.get(CODE)
    assert stored is not None and stored.version == overdue.version
    send(uow, native(4, t(9, 9)), now=t(9, 10))
    later = uow.take()
    assert "dossier.overdue" not in types(later)
    assert min(snap(e).version for e in later) > overdue.version
    assert handlers.sweep(uow, ctx(t(30, 9))) == 0
    send(uow, native(9, t(12, 9)), now=t(12, 10))
    assert completed(uow.take()).outcome == ev.Outcome.LATE


# -- the sweeper -------------------------------------------------------------------------------

def test_sweep_announces_due_soon_then_overdue_exactly_once_each(uow: FakeUnitOfWork) -> None:
    send(uow, native(2, t(5, 8)))
    send(uow, native(2, t(5, 8), code="H99.01-261005-0002", procedure_code="2.003416"))
    uow.take()
    # Due Monday 19 Oct 08:00: "due soon" from Friday 16 Oct 08:00 (480 working minutes before).
    assert handlers.sweep(uow, ctx(t(16, 7, 59))) == 0
    assert handlers.sweep(uow, ctx(t(16, 9))) == 1
    due_soon = uow.take()
    assert types(due_soon) == ["dossier.due_soon"]
    assert isinstance(due_soon[0], ev.DossierDueSoon)
    # 09:00-11:30 and 13:30-17:00 on Friday, 07:00-08:00 on Monday.
    assert due_soon[0].remaining_working_minutes == 420
    assert snap(due_soon[0]).version == 2
    assert handlers.sweep(uow, ctx(t(16, 10))) == 0
    assert handlers.sweep(uow, ctx(t(19, 9))) == 1
    assert handlers.sweep(uow, ctx(t(19, 10))) == 0
    overdue = uow.take()
    assert types(overdue) == ["dossier.overdue"]
    assert snap(overdue[0]).version == 3 and snap(overdue[0]).dossier_code == CODE
    assert uow.repo.get(CODE).version == 3  # type: ignore[union-attr]


def test_a_dossier_found_already_overdue_is_only_announced_overdue(uow: FakeUnitOfWork) -> None:
    send(uow, native(2, t(5, 8)))
    uow.take()
    assert handlers.sweep(uow, ctx(t(20, 9))) == 1
    assert handlers.sweep(uow, ctx(t(21, 9))) == 0
    assert types(uow.take()) == ["dossier.overdue"]


def test_a_paused_dossier_is_not_announced(uow: FakeUnitOfWork) -> None:
    # The source's due date is Thursday 8 Oct; the dossier waits for a supplement from the 6th.
    send(uow, native(2, t(5, 8), source_due_at=t(8, 17).isoformat()))
    send(uow, native(5, t(6, 9)))
    events = uow.take()
    assert snap(events[-1]).deadline_state == ev.DeadlineState.PAUSED
    assert handlers.sweep(uow, ctx(t(7, 9))) == 0
    assert handlers.sweep(uow, ctx(t(14, 9))) == 0
    assert uow.take() == []
    # Resumed after its due date: overdue, announced with the resumption.
    send(uow, native(4, t(14, 10)), now=t(14, 10))
    assert types(uow.take()) == ["dossier.status_changed", "dossier.resumed", "dossier.overdue"]
    assert handlers.sweep(uow, ctx(t(15, 9))) == 0


def test_a_closed_dossier_is_never_announced(uow: FakeUnitOfWork) -> None:
    send(uow, native(2, t(5, 8)))
    send(uow, native(9, t(9, 8)))
    uow.take()
    assert handlers.sweep(uow, ctx(t(30, 9))) == 0
    assert uow.take() == []


# -- queries -----------------------------------------------------------------------------------

def test_dossier_detail_masks_personal_data(uow: FakeUnitOfWork) -> None:
    send(uow, native(2, t(5, 8), **PERSONAL))
    send(uow, native(5, t(6, 9)))
    send(uow, native(4, t(7, 9)))
    detail = handlers.get_dossier(uow, CODE, ctx(t(8, 8)))
    assert detail is not None
    assert [h.status for h in detail.history] == [2, 5, 4]
    assert [(p.start, p.end) for p in detail.pauses] == [(t(6, 9), t(7, 9))]
    shown = detail.model_dump_json()
    for value in PERSONAL.values():
        assert value not in shown
    assert detail.holder_name == "N***** V** M**" and detail.phone == "091****678"
    assert handlers.get_dossier(uow, "H99.01-NOPE", ctx()) is None


def test_listing_by_deadline_state(uow: FakeUnitOfWork) -> None:
    send(uow, native(2, t(5, 8)))
    send(uow, native(2, t(5, 8), code="H99.02-261005-0001", unit_code="H99.02"))
    listed = handlers.list_by_state(uow, None, "within", 10, 0, ctx())
    assert sorted(s.dossier_code for s in listed) == [CODE, "H99.02-261005-0001"]
    mine = handlers.list_by_state(uow, "H99.02", "within", 10, 0, ctx())
    assert [s.unit_code for s in mine] == ["H99.02"]
    with pytest.raises(ValueError, match="unknown deadline state 'late'"):
        handlers.list_by_state(uow, None, "late", 10, 0, ctx())
