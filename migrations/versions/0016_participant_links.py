"""participant links and offered slots

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 21:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('chosen_appointment_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'chosen', 'lapsed', 'withdrawn')", name=op.f('ck_offers_status')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_offers_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chosen_appointment_id'], ['appointments.id'], name=op.f('fk_offers_chosen_appointment_id_appointments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_offers_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_offers_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_status'), ['status'], unique=False)

    op.create_table('offer_slots',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_offer_slots_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_slots_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_offer_slots'))
    )
    with op.batch_alter_table('offer_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_slots_offer_id'), ['offer_id'], unique=False)

    op.create_table('participant_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(appointment_id IS NULL) <> (offer_id IS NULL)', name=op.f('ck_participant_links_one_target')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_participant_links_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_participant_links_offer_id_offers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_participant_links_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_participant_links_token_hash'))
    )
    with op.batch_alter_table('participant_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_links_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_links_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_links_participant_id'), ['participant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('participant_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_links_participant_id'))
        batch_op.drop_index(batch_op.f('ix_participant_links_offer_id'))
        batch_op.drop_index(batch_op.f('ix_participant_links_appointment_id'))

    op.drop_table('participant_links')
    with op.batch_alter_table('offer_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_slots_offer_id'))

    op.drop_table('offer_slots')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_status'))
        batch_op.drop_index(batch_op.f('ix_offers_participant_id'))
        batch_op.drop_index(batch_op.f('ix_offers_case_id'))

    op.drop_table('offers')
