"""The scoring service's unit of work: the kit's, plus the scoring repository."""

from __future__ import annotations

from services.common.uow import UnitOfWork

from .repository import ScoringRepository, SqlScoringRepository


class ScoringUnitOfWork(UnitOfWork):
    scores: ScoringRepository

    def __enter__(self) -> ScoringUnitOfWork:
        super().__enter__()
        self.scores = SqlScoringRepository(self.session)
        return self
