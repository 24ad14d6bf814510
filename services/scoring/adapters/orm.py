"""Tables of the scoring service (the kit's outbox/processed/quarantine tables live beside)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base, UtcDateTime
from services.common.tables import KIT_TABLES, BigId


class LedgerRow(Base):
    """What each dossier last contributed (domain `LedgerEntry`): the base of every delta."""

    __tablename__ = "scoring_ledger"

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(String(64))
    # The day bucket (YYYY-MM-DD), or None when counted nowhere: lets explain find a unit's
    # dossiers of a period with a range query instead of searching JSON.
    anchor_day: Mapped[str | None] = mapped_column(String(10), nullable=True)
    buckets: Mapped[list[str]] = mapped_column(JSON)
    contribution: Mapped[dict[str, int]] = mapped_column(JSON)

    __table_args__ = (Index("ix_scoring_ledger_unit_day", "unit_code", "anchor_day"),)


class CounterCell(Base):
    __tablename__ = "scoring_counters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(160))
    value: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("unit_code", "bucket", "name", name="uq_scoring_counters_cell"),
        Index("ix_scoring_counters_bucket", "bucket", "unit_code"),
    )


class ExternalInput(Base):
    """A value from outside the dossier stream (catalogue, feedback system) per unit and period."""

    __tablename__ = "scoring_external_inputs"

    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DirtyRanking(Base):
    """A (level, period) whose inputs changed since it was last ranked. `changes` grows with
    every change, `ranked` is the value the last ranking saw; rankers claim rows where they
    differ, so the set survives restarts and is shared by replicas."""

    __tablename__ = "scoring_dirty"

    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    changes: Mapped[int] = mapped_column(Integer)
    ranked: Mapped[int] = mapped_column(Integer)


class RankingSnapshot(Base):
    """A published ranking: the last one per (scheme, level, period) is what the next is
    compared with."""

    __tablename__ = "scoring_ranking_snapshots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scheme: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("scheme", "level", "period", "version", name="uq_scoring_snapshot"),
    )


class ClosedPeriod(Base):
    """The frozen ranking of a closed period: the base of year-over-year rank changes."""

    __tablename__ = "scoring_closed_periods"

    scheme: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


TABLES = [*KIT_TABLES, LedgerRow.__table__, CounterCell.__table__, ExternalInput.__table__,
          DirtyRanking.__table__, RankingSnapshot.__table__, ClosedPeriod.__table__]
