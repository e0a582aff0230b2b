"""a coordinator's reason for booking over a mediator's imported busy time

A plain nullable column, as 0013 adds them (no table rebuild on SQLite).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('appointments', sa.Column('busy_time_reason', sa.String(length=40), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # in place (3.35+): a batch rebuild would fire ON DELETE actions
        op.execute('ALTER TABLE appointments DROP COLUMN busy_time_reason')
    else:
        op.drop_column('appointments', 'busy_time_reason')
