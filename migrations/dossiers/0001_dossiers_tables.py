"""dossiers tables

Revision ID: dossiers_0001
Revises: 
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import services.common.db


revision = 'dossiers_0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
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

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('exchange', sa.String(length=128), nullable=False),
    sa.Column('routing_key', sa.String(length=255), nullable=False),
    sa.Column('message_type', sa.String(length=128), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('created_at', services.common.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', services.common.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['sent_at', 'id'], unique=False)

    op.create_table('processed_messages',
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('processed_at', services.common.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'message_id', name=op.f('pk_processed_messages'))
    )
    op.create_table('quarantined_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('received_at', services.common.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=True),
    sa.Column('source_format', sa.String(length=64), nullable=False),
    sa.Column('routing_key', sa.String(length=255), nullable=True),
    sa.Column('item_index', sa.Integer(), nullable=True),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw_payload', sa.LargeBinary(), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('resolved_at', services.common.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('reinjected_message_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantined_messages'))
    )
    with op.batch_alter_table('quarantined_messages', schema=None) as batch_op:
        batch_op.create_index('ix_quarantine_state', ['state', 'id'], unique=False)

    op.create_table('sla_crossings',
    sa.Column('dossier_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('crossed_at', services.common.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('dossier_code', 'kind', name=op.f('pk_sla_crossings'))
    )


def downgrade() -> None:
    op.drop_table('sla_crossings')
    with op.batch_alter_table('quarantined_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_quarantine_state')

    op.drop_table('quarantined_messages')
    op.drop_table('processed_messages')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_unit_state')
        batch_op.drop_index(batch_op.f('ix_dossiers_unit_code'))
        batch_op.drop_index('ix_dossiers_sweep_overdue')
        batch_op.drop_index('ix_dossiers_sweep_due_soon')

    op.drop_table('dossiers')
