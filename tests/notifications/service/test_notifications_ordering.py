"""Reordered events on the real database: an event older than what was applied raises nothing
and reopens nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.contracts import dossiers as ev
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.handlers import apply_event, list_alerts
from tests.notifications.conftest import demo_context

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CODE = "H99.01-261001-0021"


def _snapshot(version: int, **extra: object) -> ev.DossierSnapshot:
    fields: dict[str, object] = dict(
        dossier_code=CODE, version=version, unit_code="H99.01", procedure_code="1.003753",
        status=ev.Status.IN_PROCESSING, due_at=datetime(2026, 10, 5, 17, tzinfo=VN))
    fields.update(extra)
    return ev.DossierSnapshot.model_validate(fields)


def test_a_stale_due_soon_after_completion_raises_nothing(
        alerts_uow: NotificationsUnitOfWork) -> None:
    uow, ctx = alerts_uow, demo_context(datetime(2026, 10, 6, 9, tzinfo=VN))
    closed = _snapshot(6, status=ev.Status.DECIDED, outcome=ev.Outcome.ON_TIME,
                       completed_at=datetime(2026, 10, 5, 16, tzinfo=VN))
    stale = _snapshot(3, deadline_state=ev.DeadlineState.DUE_SOON)
    events: list[ev.DossierEvent] = [
        ev.DossierCompleted(dossier=closed, outcome=ev.Outcome.ON_TIME),
        ev.DossierDueSoon(dossier=stale, remaining_working_minutes=60),
    ]
    raised = []
    for event in events:
        with uow:
            raised += apply_event(uow, event, ctx)
            uow.commit()
    # Applied in order (due soon, then completed) it would have raised one due_soon alert.
    assert raised == []
    assert list_alerts(uow, None, None, None, 50, 0) == []
    with uow:
        fresh = ev.DossierDueSoon(dossier=_snapshot(7, deadline_state=ev.DeadlineState.DUE_SOON),
                                  remaining_working_minutes=30)
        assert [a.kind.value for a in apply_event(uow, fresh, ctx)] == ["due_soon"]
