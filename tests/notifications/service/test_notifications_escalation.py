"""Escalation and apology reminders on the real database, time passed in: once per alert for
escalations, once per interval for reminders, never after the apology is issued."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.common.calendar_data import load_calendar
from services.common.db import make_engine, session_factory
from services.common.migrate import upgrade
from services.common.reference import load_province
from services.contracts import dossiers as ev
from services.notifications.adapters.orm import DeliveryRow
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.context import Context
from services.notifications.dependencies import load_channels
from services.notifications.escalation import escalate_and_remind
from services.notifications.handlers import apply_event

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RAISED = datetime(2026, 10, 6, 8, 0, tzinfo=VN)  # Tuesday
CODE = "H99.01-261001-0009"


def _snapshot(**extra: object) -> ev.DossierSnapshot:
    fields: dict[str, object] = dict(
        dossier_code=CODE, version=4, unit_code="H99.01", procedure_code="1.003753",
        status=ev.Status.IN_PROCESSING, due_at=datetime(2026, 10, 5, 17, tzinfo=VN),
        deadline_state=ev.DeadlineState.OVERDUE)
    fields.update(extra)
    return ev.DossierSnapshot.model_validate(fields)


def test_escalation_once_reminders_per_interval_and_none_after_the_apology(
        database_url: str) -> None:
    upgrade("notifications", database_url)
    engine = make_engine(database_url)
    uow = NotificationsUnitOfWork(session_factory(engine))
    channels = load_channels({"PROVINCE": "demo"})
    province, calendar = load_province("demo"), load_calendar()

    def ctx(now: datetime) -> Context:
        return Context(province, calendar, channels, now)

    def deliveries() -> list[tuple[str, str]]:
        with engine.connect() as conn:
            rows = conn.execute(select(DeliveryRow.purpose, DeliveryRow.address)
                                .order_by(DeliveryRow.id))
            return [(r[0], r[1]) for r in rows]

    with uow:
        assert len(apply_event(uow, ev.DossierOverdue(dossier=_snapshot()), ctx(RAISED))) == 1
        uow.commit()
    assert escalate_and_remind(uow, ctx(RAISED + timedelta(hours=2))) == (0, 0)
    # 08:00 + 4 working hours (07:00-11:30, 13:30-17:00) is 14:00.
    due = datetime(2026, 10, 6, 14, 0, tzinfo=VN)
    assert escalate_and_remind(uow, ctx(due)) == (1, 1)
    assert escalate_and_remind(uow, ctx(due + timedelta(minutes=30))) == (0, 0)
    head, officer = "lanh-dao.h99-01@tinhmau.example", "mot-cua.h99-01@tinhmau.example"
    assert deliveries()[2:] == [("escalation", head), ("reminder", officer)]
    # Four working hours later (Wednesday 11:00) a second reminder, and no second escalation.
    assert escalate_and_remind(uow, ctx(datetime(2026, 10, 7, 11, 0, tzinfo=VN))) == (0, 1)
    assert [p for p, _ in deliveries()].count("reminder") == 2
    issued = _snapshot(version=5, apology_issued_at=datetime(2026, 10, 7, 11, 30, tzinfo=VN))
    with uow:
        apply_event(uow, ev.ApologyIssued(dossier=issued), ctx(datetime(2026, 10, 7, 11, 30,
                                                                         tzinfo=VN)))
        uow.commit()
    assert escalate_and_remind(uow, ctx(datetime(2026, 10, 9, 11, 0, tzinfo=VN))) == (0, 0)
    assert len(deliveries()) == 5
    engine.dispose()
