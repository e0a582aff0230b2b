"""callback requests note the answers a caller never gave (their safe default stands)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00.000000

Requests taken before this revision had every answer given (the phone line
took none otherwise), so NULL, "nothing defaulted", is right for them.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('callback_requests') as batch:
        batch.add_column(sa.Column('defaulted', sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('callback_requests') as batch:
        batch.drop_column('defaulted')
