"""audit entries looked up by object (a case page's history)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 23:00:00.000000
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_entries_object', 'audit_entries', ['object_type', 'object_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_entries_object', table_name='audit_entries')
