"""Tables of the gateway: a read model (views only, nothing the gateway owns) and the bounded log
of stream events the SSE endpoint resumes from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base, UtcDateTime
from services.common.tables import KIT_TABLES, BigId


class RankingRow(Base):
    """The latest RankingChanged body of one (scheme, level, period)."""

    __tablename__ = "gateway_rankings"

    scheme: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DossierKpiRow(Base):
    """What the live counters need of one dossier, from its latest snapshot (version-guarded)."""

    __tablename__ = "gateway_dossier_kpis"

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    deadline_state: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (
        Index("ix_gateway_kpis_open", "closed", "deadline_state"),
        Index("ix_gateway_kpis_accepted", "accepted_at"),
        Index("ix_gateway_kpis_completed", "completed_at"),
    )


class StreamEventRow(Base):
    """One SSE event. Ids only grow, and rows become visible in id order (see repository)."""

    __tablename__ = "gateway_stream_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FlagRow(Base):
    """Small named state shared by replicas: the "kpi dirty" flag and the stream's write lock."""

    __tablename__ = "gateway_flags"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


TABLES = [*KIT_TABLES, RankingRow.__table__, DossierKpiRow.__table__, StreamEventRow.__table__,
          FlagRow.__table__]
