"""The dossiers service's dependency providers: the kit's, bound to this service."""

from __future__ import annotations

from services.common.dependencies import ProvinceData, ServiceClock, TransactionalStore

from .adapters.uow import DossiersUnitOfWork


def store() -> TransactionalStore:
    return TransactionalStore("dossiers", uow_cls=DossiersUnitOfWork)


__all__ = ["ProvinceData", "ServiceClock", "store"]
