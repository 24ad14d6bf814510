"""The dossiers service's unit of work: the kit's, plus the dossier repository."""

from __future__ import annotations

from services.common.uow import UnitOfWork

from .repository import DossierRepository, SqlDossierRepository


class DossiersUnitOfWork(UnitOfWork):
    dossiers: DossierRepository

    def __enter__(self) -> DossiersUnitOfWork:
        super().__enter__()
        self.dossiers = SqlDossierRepository(self.session)
        return self

    def commit(self) -> None:
        self.dossiers.flush()
        super().commit()
