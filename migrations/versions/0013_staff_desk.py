"""the staff desk: regions, languages of users and mediators, video links, staggered departures

Regions hang off cases and mediators through tables of their own: adding a
foreign-key column to `cases` or `mediators` would make SQLite rebuild those
tables, and a rebuild of a parent table runs its children's ON DELETE
actions. Only plain nullable columns are added to existing tables.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

PLAIN_COLUMNS = (
    ('users', sa.Column('language', sa.String(length=2), server_default='nl', nullable=False)),
    ('mediators', sa.Column('language', sa.String(length=2), server_default='nl', nullable=False)),
    ('mediators', sa.Column('video_url', sa.String(length=500), nullable=True)),
    ('appointments', sa.Column('video_url', sa.String(length=500), nullable=True)),
    ('attendances', sa.Column('departure', core.db.UTCDateTime(), nullable=True)),
)


def upgrade() -> None:
    op.create_table('regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('name', name=op.f('uq_regions_name'))
    )
    op.create_table('case_regions',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_regions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_case_regions_region_id_regions'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_regions'))
    )
    op.create_index(op.f('ix_case_regions_region_id'), 'case_regions', ['region_id'], unique=False)
    op.create_table('mediator_regions',
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], name=op.f('fk_mediator_regions_mediator_id_mediators'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_mediator_regions_region_id_regions'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('mediator_id', name=op.f('pk_mediator_regions'))
    )
    op.create_index(op.f('ix_mediator_regions_region_id'), 'mediator_regions', ['region_id'], unique=False)
    for table, column in PLAIN_COLUMNS:
        op.add_column(table, column)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in reversed(PLAIN_COLUMNS):
        if sqlite:  # SQLite drops a plain column in place (3.35+); a batch rebuild would fire ON DELETE actions
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column.name}')
        else:
            op.drop_column(table, column.name)
    op.drop_index(op.f('ix_mediator_regions_region_id'), table_name='mediator_regions')
    op.drop_table('mediator_regions')
    op.drop_index(op.f('ix_case_regions_region_id'), table_name='case_regions')
    op.drop_table('case_regions')
    op.drop_table('regions')
