"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 13:10:45.813513
"""
from alembic import op
import sqlalchemy as sa
import core.db

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


EXCLUSIONS = {
    column: (
        f"ALTER TABLE reservations ADD CONSTRAINT ex_reservations_{column}_overlap "
        f"EXCLUDE USING gist ({column} WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        f"WHERE (live AND {column} IS NOT NULL)"
    )
    for column in ("mediator_id", "room_id")
}


def upgrade() -> None:
    is_postgres = op.get_bind().dialect.name == "postgresql"
    if is_postgres:
        # btree_gist lets one GiST index combine "same resource" with "overlapping span".
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=400), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('on_duty', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', core.db.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    op.create_index(op.f('ix_audit_entries_at'), 'audit_entries', ['at'], unique=False)
    op.create_table('mediators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('working_hours', sa.JSON(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mediators_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediators')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mediators_user_id'))
    )
    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('sms_allowed', sa.Boolean(), nullable=False),
    sa.Column('email_allowed', sa.Boolean(), nullable=False),
    sa.Column('full_text_opt_in', sa.Boolean(), nullable=False),
    sa.Column('withdrawn_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_participants_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants'))
    )
    op.create_index(op.f('ix_participants_case_id'), 'participants', ['case_id'], unique=False)
    op.create_index(op.f('ix_participants_phone'), 'participants', ['phone'], unique=False)
    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('separate_waiting_area', sa.Boolean(), nullable=False),
    sa.Column('accessible', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_rooms_location_id_locations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms'))
    )
    op.create_index(op.f('ix_rooms_location_id'), 'rooms', ['location_id'], unique=False)
    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('start', core.db.UTCDateTime(), nullable=False),
    sa.Column('end', core.db.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('hold_expires_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('waiting_area_override', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=40), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_appointments_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_appointments_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_appointments_room_id_rooms'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    op.create_index(op.f('ix_appointments_case_id'), 'appointments', ['case_id'], unique=False)
    op.create_index(op.f('ix_appointments_room_id'), 'appointments', ['room_id'], unique=False)
    op.create_index(op.f('ix_appointments_status'), 'appointments', ['status'], unique=False)
    op.create_table('busy_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('uid', sa.String(length=500), nullable=False),
    sa.Column('recurrence_id', sa.String(length=100), nullable=True),
    sa.CheckConstraint('(mediator_id IS NULL) <> (room_id IS NULL)', name=op.f('ck_busy_blocks_one_owner')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_busy_blocks_positive_span')),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], name=op.f('fk_busy_blocks_mediator_id_mediators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_busy_blocks_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_busy_blocks'))
    )
    op.create_index('ix_busy_blocks_mediator_span', 'busy_blocks', ['mediator_id', 'starts_at', 'ends_at'], unique=False)
    op.create_index('ix_busy_blocks_room_span', 'busy_blocks', ['room_id', 'starts_at', 'ends_at'], unique=False)
    op.create_index(op.f('ix_busy_blocks_source_id'), 'busy_blocks', ['source_id'], unique=False)
    op.create_table('case_mediators',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_mediators_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], name=op.f('fk_case_mediators_mediator_id_mediators'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('case_id', 'mediator_id', name=op.f('pk_case_mediators'))
    )
    op.create_index(op.f('ix_case_mediators_mediator_id'), 'case_mediators', ['mediator_id'], unique=False)
    op.create_table('appointment_mediators',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_appointment_mediators_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], name=op.f('fk_appointment_mediators_mediator_id_mediators'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('appointment_id', 'mediator_id', name=op.f('pk_appointment_mediators'))
    )
    op.create_index(op.f('ix_appointment_mediators_mediator_id'), 'appointment_mediators', ['mediator_id'], unique=False)
    op.create_table('attendances',
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('arrival', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_attendances_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_attendances_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('appointment_id', 'participant_id', name=op.f('pk_attendances'))
    )
    op.create_index(op.f('ix_attendances_participant_id'), 'attendances', ['participant_id'], unique=False)
    op.create_table('mediator_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('done_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_mediator_tasks_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_mediator_tasks_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], name=op.f('fk_mediator_tasks_mediator_id_mediators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_mediator_tasks_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediator_tasks'))
    )
    op.create_index(op.f('ix_mediator_tasks_case_id'), 'mediator_tasks', ['case_id'], unique=False)
    op.create_index(op.f('ix_mediator_tasks_mediator_id'), 'mediator_tasks', ['mediator_id'], unique=False)
    op.create_table('reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint('(mediator_id IS NULL) <> (room_id IS NULL)', name=op.f('ck_reservations_one_resource')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_reservations_positive_span')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_reservations_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], name=op.f('fk_reservations_mediator_id_mediators'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_reservations_room_id_rooms'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations'))
    )
    op.create_index(op.f('ix_reservations_appointment_id'), 'reservations', ['appointment_id'], unique=False)
    op.create_index('ix_reservations_mediator_span', 'reservations', ['mediator_id', 'starts_at', 'ends_at'], unique=False)
    op.create_index('ix_reservations_room_span', 'reservations', ['room_id', 'starts_at', 'ends_at'], unique=False)
    if is_postgres:
        # No double booking (invariant 1 in docs/architecture.md), enforced by the database itself.
        for statement in EXCLUSIONS.values():
            op.execute(statement)


def downgrade() -> None:
    op.drop_index('ix_reservations_room_span', table_name='reservations')
    op.drop_index('ix_reservations_mediator_span', table_name='reservations')
    op.drop_index(op.f('ix_reservations_appointment_id'), table_name='reservations')
    op.drop_table('reservations')
    op.drop_index(op.f('ix_mediator_tasks_mediator_id'), table_name='mediator_tasks')
    op.drop_index(op.f('ix_mediator_tasks_case_id'), table_name='mediator_tasks')
    op.drop_table('mediator_tasks')
    op.drop_index(op.f('ix_attendances_participant_id'), table_name='attendances')
    op.drop_table('attendances')
    op.drop_index(op.f('ix_appointment_mediators_mediator_id'), table_name='appointment_mediators')
    op.drop_table('appointment_mediators')
    op.drop_index(op.f('ix_case_mediators_mediator_id'), table_name='case_mediators')
    op.drop_table('case_mediators')
    op.drop_index(op.f('ix_busy_blocks_source_id'), table_name='busy_blocks')
    op.drop_index('ix_busy_blocks_room_span', table_name='busy_blocks')
    op.drop_index('ix_busy_blocks_mediator_span', table_name='busy_blocks')
    op.drop_table('busy_blocks')
    op.drop_index(op.f('ix_appointments_status'), table_name='appointments')
    op.drop_index(op.f('ix_appointments_room_id'), table_name='appointments')
    op.drop_index(op.f('ix_appointments_case_id'), table_name='appointments')
    op.drop_table('appointments')
    op.drop_index(op.f('ix_rooms_location_id'), table_name='rooms')
    op.drop_table('rooms')
    op.drop_index(op.f('ix_participants_phone'), table_name='participants')
    op.drop_index(op.f('ix_participants_case_id'), table_name='participants')
    op.drop_table('participants')
    op.drop_table('mediators')
    op.drop_index(op.f('ix_audit_entries_at'), table_name='audit_entries')
    op.drop_table('audit_entries')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('locations')
    op.drop_table('cases')
