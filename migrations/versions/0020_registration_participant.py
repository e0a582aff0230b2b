"""the participant a case was opened with from a registration (its erasure and data file find it)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 00:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('registrations') as batch:
        batch.add_column(sa.Column('participant_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_registrations_participant_id_participants', 'participants',
                                 ['participant_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_registrations_participant_id', ['participant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('registrations') as batch:
        batch.drop_index('ix_registrations_participant_id')
        batch.drop_constraint('fk_registrations_participant_id_participants', type_='foreignkey')
        batch.drop_column('participant_id')
