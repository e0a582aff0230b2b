"""callback requests, call attempts and the IVR state of calls in progress

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 14:48:39.513335
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callback_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('number_typed_in', sa.Boolean(), nullable=False),
    sa.Column('caller_number', sa.String(length=20), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('moment', sa.String(length=20), nullable=False),
    sa.Column('may_identify', sa.Boolean(), nullable=False),
    sa.Column('wants_confirmation', sa.Boolean(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('window_start', core.db.UTCDateTime(), nullable=False),
    sa.Column('due_at', core.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_callback_requests_language')),
    sa.CheckConstraint("moment IN ('morning', 'afternoon', 'no_preference')", name=op.f('ck_callback_requests_moment')),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'done', 'unreachable', 'cancelled')", name=op.f('ck_callback_requests_status')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_callback_requests_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_callback_requests_case_id_cases'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_requests'))
    )
    op.create_index(op.f('ix_callback_requests_assignee_id'), 'callback_requests', ['assignee_id'], unique=False)
    op.create_index(op.f('ix_callback_requests_case_id'), 'callback_requests', ['case_id'], unique=False)
    op.create_index(op.f('ix_callback_requests_due_at'), 'callback_requests', ['due_at'], unique=False)
    op.create_index(op.f('ix_callback_requests_status'), 'callback_requests', ['status'], unique=False)
    op.create_index('uq_callback_requests_open_number', 'callback_requests', ['number'], unique=True, postgresql_where=sa.text("status IN ('open', 'in_progress')"), sqlite_where=sa.text("status IN ('open', 'in_progress')"))
    op.create_table('callback_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=False),
    sa.Column('at', core.db.UTCDateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.CheckConstraint("outcome IN ('reached', 'no_answer', 'busy', 'wrong_number')", name=op.f('ck_callback_attempts_outcome')),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_callback_attempts_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['callback_id'], ['callback_requests.id'], name=op.f('fk_callback_attempts_callback_id_callback_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempts'))
    )
    op.create_index(op.f('ix_callback_attempts_callback_id'), 'callback_attempts', ['callback_id'], unique=False)
    op.create_table('ivr_calls',
    sa.Column('call_sid', sa.String(length=64), nullable=False),
    sa.Column('caller_number', sa.String(length=20), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('turn', sa.Integer(), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('number_typed_in', sa.Boolean(), nullable=False),
    sa.Column('moment', sa.String(length=20), nullable=True),
    sa.Column('may_identify', sa.Boolean(), nullable=True),
    sa.Column('wants_confirmation', sa.Boolean(), nullable=True),
    sa.Column('callback_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['callback_id'], ['callback_requests.id'], name=op.f('fk_ivr_calls_callback_id_callback_requests'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('call_sid', name=op.f('pk_ivr_calls'))
    )


def downgrade() -> None:
    op.drop_table('ivr_calls')
    op.drop_index(op.f('ix_callback_attempts_callback_id'), table_name='callback_attempts')
    op.drop_table('callback_attempts')
    op.drop_index('uq_callback_requests_open_number', table_name='callback_requests', postgresql_where=sa.text("status IN ('open', 'in_progress')"), sqlite_where=sa.text("status IN ('open', 'in_progress')"))
    op.drop_index(op.f('ix_callback_requests_status'), table_name='callback_requests')
    op.drop_index(op.f('ix_callback_requests_due_at'), table_name='callback_requests')
    op.drop_index(op.f('ix_callback_requests_case_id'), table_name='callback_requests')
    op.drop_index(op.f('ix_callback_requests_assignee_id'), table_name='callback_requests')
    op.drop_table('callback_requests')
