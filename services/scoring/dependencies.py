"""The scoring service's dependency providers: the kit's, bound to this service, plus the
schemes loaded once at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nameko import config
from nameko.extensions import DependencyProvider

from services.common.dependencies import (
    DATA_ROOT,
    ProvinceData,
    ServiceClock,
    TransactionalStore,
)

from .adapters.uow import ScoringUnitOfWork
from .domain.scheme import Scheme
from .rankings import RankingCache
from .scheme_loader import load_schemes


def store() -> TransactionalStore:
    return TransactionalStore("scoring", uow_cls=ScoringUnitOfWork)


def load_schemes_from_config(directory: str | Path | None) -> dict[str, Scheme]:
    return load_schemes(Path(directory or DATA_ROOT / "schemes"))


class Schemes(DependencyProvider):
    """Every scheme in `SCHEMES_DIR` (default data/schemes); a bad file stops the start."""

    def setup(self) -> None:
        self.schemes: dict[str, Scheme] = load_schemes_from_config(config.get("SCHEMES_DIR"))

    def get_dependency(self, worker_ctx: Any) -> dict[str, Scheme]:
        return self.schemes


class RankingMemo(DependencyProvider):
    """The ranker's in-process cache (see rankings.RankingCache), one per process."""

    def setup(self) -> None:
        self.cache = RankingCache()

    def get_dependency(self, worker_ctx: Any) -> RankingCache:
        return self.cache


__all__ = ["ProvinceData", "RankingMemo", "Schemes", "ServiceClock",
           "load_schemes_from_config", "store"]
