"""when a case closed and when its personal data was erased; a participant's erasure

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 00:30:00.000000

A case closed before this revision gets, as its closing time, the last audit entry that changed its
status (`case.updated` naming `status`), or the revision's own time when there is none: never earlier
than it closed, so its erasure never comes early.
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('closed_at', core.db.UTCDateTime(), nullable=True))
    op.add_column('cases', sa.Column('erased_at', core.db.UTCDateTime(), nullable=True))
    op.add_column('participants', sa.Column('erased_at', core.db.UTCDateTime(), nullable=True))
    op.create_index('ix_cases_closed_at', 'cases', ['closed_at'], unique=False)
    op.execute(
        "UPDATE cases SET closed_at = COALESCE("
        "(SELECT MAX(a.at) FROM audit_entries a WHERE a.object_type = 'case' AND a.object_id = cases.id"
        " AND a.action = 'case.updated' AND a.detail LIKE '%status%'), CURRENT_TIMESTAMP)"
        " WHERE status = 'closed'")


def downgrade() -> None:
    op.drop_index('ix_cases_closed_at', table_name='cases')
    with op.batch_alter_table('participants') as batch:
        batch.drop_column('erased_at')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('erased_at')
        batch.drop_column('closed_at')
