"""The notifications service's unit of work: the kit's, plus the alert repository."""

from __future__ import annotations

from services.common.uow import UnitOfWork

from .repository import AlertRepository, SqlAlertRepository


class NotificationsUnitOfWork(UnitOfWork):
    alerts: AlertRepository

    def __enter__(self) -> NotificationsUnitOfWork:
        super().__enter__()
        self.alerts = SqlAlertRepository(self.session)
        return self

    def commit(self) -> None:
        self.alerts.flush()
        super().commit()
