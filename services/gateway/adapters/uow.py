"""The gateway's unit of work: the kit's, plus the read-model repository."""

from __future__ import annotations

from services.common.uow import UnitOfWork

from .repository import GatewayRepository


class GatewayUnitOfWork(UnitOfWork):
    views: GatewayRepository

    def __enter__(self) -> GatewayUnitOfWork:
        super().__enter__()
        self.views = GatewayRepository(self.session)
        return self

    def commit(self) -> None:
        self.views.flush()
        super().commit()
