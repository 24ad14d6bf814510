"""DDL of the kit's tables (outbox, processed messages, quarantine) for every service's first
migration: one definition instead of a copy per service."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from .db import UtcDateTime

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def create_kit_tables() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("exchange", sa.String(length=128), nullable=False),
        sa.Column("routing_key", sa.String(length=255), nullable=False),
        sa.Column("message_type", sa.String(length=128), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "id"], unique=False)
    op.create_table(
        "processed_messages",
        sa.Column("consumer", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("processed_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id", name=op.f("pk_processed_messages")),
    )
    op.create_table(
        "quarantined_messages",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("received_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("consumer", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.Column("source_format", sa.String(length=64), nullable=False),
        sa.Column("routing_key", sa.String(length=255), nullable=True),
        sa.Column("item_index", sa.Integer(), nullable=True),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw_payload", sa.LargeBinary(), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolved_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("reinjected_message_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_messages")),
    )
    op.create_index("ix_quarantine_state", "quarantined_messages", ["state", "id"],
                    unique=False)


def drop_kit_tables() -> None:
    op.drop_index("ix_quarantine_state", table_name="quarantined_messages")
    op.drop_table("quarantined_messages")
    op.drop_table("processed_messages")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
