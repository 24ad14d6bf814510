"""Tables of the notifications service (the kit's outbox/processed tables live beside)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base, UtcDateTime
from services.common.tables import KIT_TABLES, BigId


class AlertRow(Base):
    """One alert; `key` is the domain's unique key, so one row per (kind, dossier, threshold)
    whatever the redeliveries, restarts and replicas."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    unit_code: Mapped[str] = mapped_column(String(64))
    dossier_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(64), nullable=True)
    apology_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The Mẫu 04 draft, kept with the alert of a late dossier.
    apology_subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    apology_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    apology_new_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        Index("ix_alerts_unit_kind_state", "unit_code", "kind", "state"),
    )


class DeliveryRow(Base):
    """One notice to one target; the unique key makes a redecided delivery a no-op."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_key: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(16))  # alert | escalation | reminder
    # 0, except reminders, which repeat: the reminder's instant (epoch seconds) tells them apart.
    round: Mapped[int] = mapped_column(BigId, default=0)
    channel: Mapped[str] = mapped_column(String(16))
    # Officers' work addresses (not applicants'); the hash is the stable target identity.
    address: Mapped[str] = mapped_column(String(512))
    address_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    secret_env: Mapped[str | None] = mapped_column(String(128), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed | blocked
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Digests are rendered when queued (a snapshot at the slot): {subject, body, webhook}.
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)  # quiet hours hold it until then
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("alert_key", "channel", "address_hash", "purpose", "round",
                         name="uq_deliveries_target"),
        Index("ix_deliveries_pending", "outcome", "not_before"),
    )


class DossierVersion(Base):
    """The highest dossier version applied: an older event arriving late is ignored."""

    __tablename__ = "dossier_versions"

    dossier_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class DigestSlot(Base):
    """One row per unit and daily digest slot: the unique key that sends each digest once."""

    __tablename__ = "digest_slots"

    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


TABLES = [*KIT_TABLES, AlertRow.__table__, DeliveryRow.__table__,
          DigestSlot.__table__, DossierVersion.__table__]
