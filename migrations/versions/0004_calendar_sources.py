"""calendar sources

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 14:13:55.834201
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_feed_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('include_names', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', core.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint('(mediator_id IS NULL) <> (room_id IS NULL)', name=op.f('ck_calendar_feed_tokens_one_owner')),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], name=op.f('fk_calendar_feed_tokens_mediator_id_mediators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_calendar_feed_tokens_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feed_tokens_token_hash'))
    )
    op.create_index(op.f('ix_calendar_feed_tokens_mediator_id'), 'calendar_feed_tokens', ['mediator_id'], unique=False)
    op.create_index(op.f('ix_calendar_feed_tokens_room_id'), 'calendar_feed_tokens', ['room_id'], unique=False)
    op.create_table('calendar_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('url_sealed', sa.Text(), nullable=True),
    sa.Column('url_hint', sa.String(length=120), nullable=True),
    sa.Column('username', sa.String(length=200), nullable=True),
    sa.Column('password_sealed', sa.Text(), nullable=True),
    sa.Column('upload_data', sa.LargeBinary(), nullable=True),
    sa.Column('all_day_busy', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('last_synced_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('last_attempt_at', core.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('busy_count', sa.Integer(), nullable=False),
    sa.Column('skipped_events', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('(mediator_id IS NULL) <> (room_id IS NULL)', name=op.f('ck_calendar_sources_one_owner')),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], name=op.f('fk_calendar_sources_mediator_id_mediators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_calendar_sources_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_sources'))
    )
    op.create_index(op.f('ix_calendar_sources_mediator_id'), 'calendar_sources', ['mediator_id'], unique=False)
    op.create_index(op.f('ix_calendar_sources_room_id'), 'calendar_sources', ['room_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_calendar_sources_room_id'), table_name='calendar_sources')
    op.drop_index(op.f('ix_calendar_sources_mediator_id'), table_name='calendar_sources')
    op.drop_table('calendar_sources')
    op.drop_index(op.f('ix_calendar_feed_tokens_room_id'), table_name='calendar_feed_tokens')
    op.drop_index(op.f('ix_calendar_feed_tokens_mediator_id'), table_name='calendar_feed_tokens')
    op.drop_table('calendar_feed_tokens')
