"""when an SMS was deleted at the provider, and when to try again (TWILIO_DELETE_SENT_MESSAGES)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 01:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox_messages', sa.Column('provider_deleted_at', core.db.UTCDateTime(), nullable=True))
    op.add_column('outbox_messages', sa.Column('provider_delete_after', core.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_column('provider_delete_after')
        batch.drop_column('provider_deleted_at')
