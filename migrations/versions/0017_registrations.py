"""registrations from the public page /aanmelden (a table of their own)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 21:37:14.450404
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registrant', sa.String(length=20), nullable=False),
    sa.Column('registrant_name', sa.String(length=200), nullable=True),
    sa.Column('registrant_organisation', sa.String(length=200), nullable=True),
    sa.Column('registrant_phone', sa.String(length=20), nullable=True),
    sa.Column('registrant_email', sa.String(length=254), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('other_party_known', sa.String(length=10), nullable=False),
    sa.Column('contact_call', sa.Boolean(), nullable=False),
    sa.Column('contact_sms', sa.Boolean(), nullable=False),
    sa.Column('contact_email', sa.Boolean(), nullable=False),
    sa.Column('contact_letter', sa.Boolean(), nullable=False),
    sa.Column('moment', sa.String(length=20), nullable=False),
    sa.Column('may_identify', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('close_reason', sa.String(length=30), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("case_id IS NULL OR status = 'case_opened'", name=op.f('ck_registrations_case_when_opened')),
    sa.CheckConstraint("close_reason IS NULL OR close_reason IN ('duplicate', 'not_for_us', 'no_longer_wanted', 'unreachable', 'not_serious', 'other')", name=op.f('ck_registrations_close_reason')),
    sa.CheckConstraint("kind IN ('crime', 'traffic_accident', 'sexual_abuse', 'transgressive_behaviour', 'other')", name=op.f('ck_registrations_kind')),
    sa.CheckConstraint("language IN ('nl', 'en')", name=op.f('ck_registrations_language')),
    sa.CheckConstraint("moment IN ('morning', 'afternoon', 'no_preference')", name=op.f('ck_registrations_moment')),
    sa.CheckConstraint("other_party_known IN ('yes', 'no', 'unknown')", name=op.f('ck_registrations_other_party_known')),
    sa.CheckConstraint("registrant IN ('self', 'police', 'victim_support', 'lawyer', 'relative', 'other')", name=op.f('ck_registrations_registrant')),
    sa.CheckConstraint("role IN ('victim', 'next_of_kin', 'suspect', 'causer', 'other')", name=op.f('ck_registrations_role')),
    sa.CheckConstraint("status IN ('new', 'case_opened', 'closed')", name=op.f('ck_registrations_status')),
    sa.CheckConstraint('phone IS NOT NULL OR email IS NOT NULL', name=op.f('ck_registrations_reachable')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_registrations_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_registrations_handled_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registrations'))
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrations_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_registrations_status_created', ['status', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_registrations_status_created')
        batch_op.drop_index(batch_op.f('ix_registrations_case_id'))

    op.drop_table('registrations')
