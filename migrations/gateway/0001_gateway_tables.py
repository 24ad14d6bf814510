"""gateway tables

Revision ID: gateway_0001
Revises: 
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import services.common.db
from services.common.kit_migration import create_kit_tables, drop_kit_tables
from datetime import UTC, datetime


revision = 'gateway_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table('gateway_dossier_kpis',
    sa.Column('dossier_code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('accepted_at', services.common.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', services.common.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('deadline_state', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('dossier_code', name=op.f('pk_gateway_dossier_kpis'))
    )
    with op.batch_alter_table('gateway_dossier_kpis', schema=None) as batch_op:
        batch_op.create_index('ix_gateway_kpis_accepted', ['accepted_at'], unique=False)
        batch_op.create_index('ix_gateway_kpis_completed', ['completed_at'], unique=False)
        batch_op.create_index('ix_gateway_kpis_open', ['closed', 'deadline_state'], unique=False)

    flags = op.create_table('gateway_flags',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('updated_at', services.common.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_gateway_flags'))
    )
    # Seeded so that replicas never race to create them.
    op.bulk_insert(flags, [
        {"name": name, "value": 0, "updated_at": datetime.now(UTC)}
        for name in ("kpi_dirty", "stream_lock")
    ])
    op.create_table('gateway_rankings',
    sa.Column('scheme', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('updated_at', services.common.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scheme', 'level', 'period', name=op.f('pk_gateway_rankings'))
    )
    op.create_table('gateway_stream_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', services.common.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_stream_events'))
    )
    with op.batch_alter_table('gateway_stream_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_stream_events_created_at'), ['created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('gateway_stream_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_stream_events_created_at'))

    op.drop_table('gateway_stream_events')
    op.drop_table('gateway_rankings')
    op.drop_table('gateway_flags')
    with op.batch_alter_table('gateway_dossier_kpis', schema=None) as batch_op:
        batch_op.drop_index('ix_gateway_kpis_open')
        batch_op.drop_index('ix_gateway_kpis_completed')
        batch_op.drop_index('ix_gateway_kpis_accepted')

    op.drop_table('gateway_dossier_kpis')
    drop_kit_tables()
