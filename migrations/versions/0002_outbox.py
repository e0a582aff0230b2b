"""outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:50:44.548424
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient_kind', sa.String(length=20), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('appointment_version', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('is_reminder', sa.Boolean(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('attachment_ics', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('not_before', core.db.UTCDateTime(), nullable=False),
    sa.Column('deadline', core.db.UTCDateTime(), nullable=True),
    sa.Column('next_attempt_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', core.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('provider_id', sa.String(length=255), nullable=True),
    sa.Column('provider_status', sa.String(length=20), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('finished_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('purged_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_outbox_messages_appointment_id_appointments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], name=op.f('fk_outbox_messages_mediator_id_mediators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_outbox_messages_participant_id_participants'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_messages_idempotency_key'))
    )
    op.create_index(op.f('ix_outbox_messages_appointment_id'), 'outbox_messages', ['appointment_id'], unique=False)
    op.create_index('ix_outbox_messages_due', 'outbox_messages', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_outbox_messages_participant_id'), 'outbox_messages', ['participant_id'], unique=False)
    op.create_index(op.f('ix_outbox_messages_provider_id'), 'outbox_messages', ['provider_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_outbox_messages_provider_id'), table_name='outbox_messages')
    op.drop_index(op.f('ix_outbox_messages_participant_id'), table_name='outbox_messages')
    op.drop_index('ix_outbox_messages_due', table_name='outbox_messages')
    op.drop_index(op.f('ix_outbox_messages_appointment_id'), table_name='outbox_messages')
    op.drop_table('outbox_messages')
