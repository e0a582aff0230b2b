"""inbound messages; a participant's reply on their attendance

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 15:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=False),
    sa.Column('from_hash', sa.String(length=64), nullable=False),
    sa.Column('received_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('handled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('message_sid', name=op.f('uq_inbound_messages_message_sid'))
    )
    op.create_index('ix_inbound_messages_sender_day', 'inbound_messages', ['from_hash', 'received_at'], unique=False)
    with op.batch_alter_table('attendances') as batch_op:
        batch_op.add_column(sa.Column('response', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('responded_at', core.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attendances') as batch_op:
        batch_op.drop_column('responded_at')
        batch_op.drop_column('response')
    op.drop_index('ix_inbound_messages_sender_day', table_name='inbound_messages')
    op.drop_table('inbound_messages')
