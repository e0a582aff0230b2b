"""numbers the SMS provider found invalid (not textable until fixed)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_untextable_numbers',
    sa.Column('number_hash', sa.String(length=64), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('error_code', sa.String(length=10), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                            name=op.f('fk_sms_untextable_numbers_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('number_hash', name=op.f('pk_sms_untextable_numbers'))
    )
    op.create_index(op.f('ix_sms_untextable_numbers_participant_id'), 'sms_untextable_numbers', ['participant_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sms_untextable_numbers_participant_id'), table_name='sms_untextable_numbers')
    op.drop_table('sms_untextable_numbers')
