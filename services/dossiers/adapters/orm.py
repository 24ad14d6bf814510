"""Tables of the dossiers service (the kit's outbox/processed/quarantine tables live beside)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base, UtcDateTime
from services.common.tables import KIT_TABLES, BigId


class DossierRow(Base):
    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(String(64), index=True)
    procedure_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    # The aggregate itself: small (5-15 entries), always read and written whole.
    history: Mapped[list[Any]] = mapped_column(JSON)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    supplements: Mapped[list[Any]] = mapped_column(JSON)
    personal: Mapped[dict[str, str]] = mapped_column(JSON)
    # Derived columns, kept for the sweeper's and the API's queries.
    closed: Mapped[bool] = mapped_column(Boolean)
    paused: Mapped[bool] = mapped_column(Boolean)
    deadline_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    due_soon_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    due_soon_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_dossiers_sweep_due_soon", "closed", "due_soon_notified", "due_soon_at"),
        Index("ix_dossiers_sweep_overdue", "closed", "overdue_notified", "due_at"),
        Index("ix_dossiers_unit_state", "unit_code", "deadline_state"),
    )


class SlaCrossing(Base):
    """The unique key that makes each threshold alert happen once per dossier, whatever the
    number of sweepers, restarts or redeliveries."""

    __tablename__ = "sla_crossings"

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    crossed_at: Mapped[datetime] = mapped_column(UtcDateTime)


TABLES = [*KIT_TABLES, DossierRow.__table__, SlaCrossing.__table__]
