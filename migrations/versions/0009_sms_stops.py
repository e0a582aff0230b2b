"""participants whose SMS is off because their number texted STOP

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00.000000

Until now a STOP set `sms_allowed` off like staff do, and a START set it on
for everyone on the number. From here a START switches SMS on again only for
participants whose SMS a STOP switched off (`sms_stops`). The audit trail
says who those are today: SMS still off, and the last thing that touched it
was an inbound STOP (not a START, and no staff change of the SMS setting or
the number since).
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BACKFILL = sa.text("""
INSERT INTO sms_stops (participant_id, stopped_at)
SELECT p.id, a.at FROM participants p
JOIN audit_entries a ON a.object_type = 'participant' AND a.object_id = p.id
WHERE NOT p.sms_allowed
  AND a.id = (SELECT max(s.id) FROM audit_entries s WHERE s.object_type = 'participant' AND s.object_id = p.id
              AND s.action = 'participant.sms_stopped')
  AND NOT EXISTS (SELECT 1 FROM audit_entries b WHERE b.object_type = 'participant' AND b.object_id = p.id
                  AND b.id > a.id AND (b.action = 'participant.sms_started'
                       OR (b.action = 'participant.updated'
                           AND (b.detail LIKE '%sms_allowed%' OR b.detail LIKE '%phone%'))))
""")


def upgrade() -> None:
    op.create_table('sms_stops',
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('stopped_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_sms_stops_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('participant_id', name=op.f('pk_sms_stops'))
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table('sms_stops')
