"""dossiers tables

Revision ID: dossiers_0001
Revises: 
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import services.common.db
from services.common.kit_migration import create_kit_tables, drop_kit_tables


revision = 'dossiers_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table('dossiers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('procedure_code', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('history', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('supplements', sa.JSON(), nullable=False),
    sa.Column('personal', sa.JSON(), nullable=False),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('deadline_state', sa.String(length=16), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('due_at', services.common.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('due_soon_at', services.common.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('due_soon_notified', sa.Boolean(), nullable=False),
    sa.Column('overdue_notified', sa.Boolean(), nullable=False),
    sa.Column('updated_at', services.common.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossiers')),
    sa.UniqueConstraint('code', name=op.f('uq_dossiers_code'))
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index('ix_dossiers_sweep_due_soon', ['closed', 'due_soon_notified', 'due_soon_at'], unique=False)
        batch_op.create_index('ix_dossiers_sweep_overdue', ['closed', 'overdue_notified', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_unit_code'), ['unit_code'], unique=False)
        batch_op.create_index('ix_dossiers_unit_state', ['unit_code', 'deadline_state'], unique=False)

    op.create_table('sla_crossings',
    sa.Column('dossier_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('crossed_at', services.common.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('dossier_code', 'kind', name=op.f('pk_sla_crossings'))
    )


def downgrade() -> None:
    op.drop_table('sla_crossings')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_unit_state')
        batch_op.drop_index(batch_op.f('ix_dossiers_unit_code'))
        batch_op.drop_index('ix_dossiers_sweep_overdue')
        batch_op.drop_index('ix_dossiers_sweep_due_soon')

    op.drop_table('dossiers')
    drop_kit_tables()
