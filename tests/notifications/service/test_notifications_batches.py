"""Alerts changed within a batch on the real database: an alert read with the batch and one
raised earlier in the same batch are both written with their final state at the commit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.common.entrypoints import InboundMessage
from services.contracts import dossiers as ev
from services.contracts.base import Event
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.handlers import handle_events, list_alerts
from tests.notifications.conftest import demo_context

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _message(event: Event) -> InboundMessage:
    return InboundMessage(body=event.model_dump_json().encode(), message_id=str(event.event_id),
                          message_type=event.TYPE, routing_key=event.TYPE)


def _overdue(code: str) -> ev.DossierOverdue:
    return ev.DossierOverdue(dossier=ev.DossierSnapshot(
        dossier_code=code, version=4, unit_code="H99.01", procedure_code="1.003753",
        status=ev.Status.IN_PROCESSING, accepted_at=datetime(2026, 10, 1, 8, tzinfo=VN),
        due_at=datetime(2026, 10, 5, 17, tzinfo=VN), deadline_state=ev.DeadlineState.OVERDUE))


def _completed_late(overdue: ev.DossierOverdue) -> ev.DossierCompleted:
    snap = overdue.dossier.model_copy(update={
        "version": 6, "status": ev.Status.DECIDED, "outcome": ev.Outcome.LATE,
        "completed_at": datetime(2026, 10, 6, 7, 30, tzinfo=VN), "deadline_state": None})
    return ev.DossierCompleted(dossier=snap, outcome=ev.Outcome.LATE)


def test_alerts_resolved_in_a_batch_are_stored_resolved(
        alerts_uow: NotificationsUnitOfWork) -> None:
    uow, ctx = alerts_uow, demo_context(datetime(2026, 10, 6, 9, tzinfo=VN))
    earlier, same_batch = _overdue("H99.01-261001-0031"), _overdue("H99.01-261001-0032")
    assert handle_events(uow, [_message(earlier)], ctx) == ["processed"]
    # The first dossier's alert is read with the batch; the second's is raised in it.
    batch = [_completed_late(earlier), same_batch, _completed_late(same_batch)]
    assert handle_events(uow, [_message(e) for e in batch], ctx) == ["processed"] * 3
    stored = {(a["dossier_code"], a["kind"]): a
              for a in list_alerts(uow, None, None, None, 50, 0)}
    assert set(stored) == {(code, kind) for code in ("H99.01-261001-0031", "H99.01-261001-0032")
                           for kind in ("overdue", "completed_late")}
    for code in ("H99.01-261001-0031", "H99.01-261001-0032"):
        overdue = stored[(code, "overdue")]
        assert (overdue["state"], overdue["resolution"]) == ("resolved", "dossier_completed")
        assert datetime.fromisoformat(overdue["resolved_at"]) == \
            datetime(2026, 10, 6, 7, 30, tzinfo=VN)
        assert stored[(code, "completed_late")]["state"] == "open"
