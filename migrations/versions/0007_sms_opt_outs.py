"""numbers that opted out of SMS

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sms_opt_outs',
    sa.Column('number_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('number_hash', name=op.f('pk_sms_opt_outs'))
    )


def downgrade() -> None:
    op.drop_table('sms_opt_outs')
