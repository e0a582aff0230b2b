"""click-to-call, dial acceptance and call status

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 15:52:17.091269
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callback_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('staff_call_sid', sa.String(length=64), nullable=True),
    sa.Column('staff_status', sa.String(length=20), nullable=True),
    sa.Column('caller_call_sid', sa.String(length=64), nullable=True),
    sa.Column('caller_status', sa.String(length=20), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("state IN ('requested', 'ringing_staff', 'connecting', 'finished', 'staff_missed', 'failed')", name=op.f('ck_callback_calls_state')),
    sa.ForeignKeyConstraint(['callback_id'], ['callback_requests.id'], name=op.f('fk_callback_calls_callback_id_callback_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_callback_calls_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_calls'))
    )
    op.create_index(op.f('ix_callback_calls_callback_id'), 'callback_calls', ['callback_id'], unique=False)
    with op.batch_alter_table('callback_attempts') as batch:
        batch.create_unique_constraint(op.f('uq_callback_attempts_call_sid'), ['call_sid'])
    with op.batch_alter_table('ivr_calls') as batch:
        batch.add_column(sa.Column('accepted_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('call_status', sa.String(length=20), nullable=True))
        batch.create_foreign_key(op.f('fk_ivr_calls_accepted_by_id_users'), 'users', ['accepted_by_id'], ['id'],
                                 ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('ivr_calls') as batch:
        batch.drop_constraint(op.f('fk_ivr_calls_accepted_by_id_users'), type_='foreignkey')
        batch.drop_column('call_status')
        batch.drop_column('accepted_by_id')
    with op.batch_alter_table('callback_attempts') as batch:
        batch.drop_constraint(op.f('uq_callback_attempts_call_sid'), type_='unique')
    op.drop_index(op.f('ix_callback_calls_callback_id'), table_name='callback_calls')
    op.drop_table('callback_calls')
