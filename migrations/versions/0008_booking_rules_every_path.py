"""a participant is in one place at a time; override reasons on appointments

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 21:00:00.000000

Participants get reservations of their own (guarded on PostgreSQL by an
exclusion constraint, like mediators and rooms). Existing live appointments
get theirs here, in start order; should two already overlap for one
participant (possible before this rule), the later one keeps no participant
reservation rather than failing the upgrade, and the count is printed so an
operator can look.
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD_ONE_RESOURCE = '(mediator_id IS NULL) <> (room_id IS NULL)'
NEW_ONE_RESOURCE = ("(CASE WHEN mediator_id IS NULL THEN 0 ELSE 1 END + CASE WHEN room_id IS NULL THEN 0 ELSE 1 END"
                    " + CASE WHEN participant_id IS NULL THEN 0 ELSE 1 END) = 1")
EXCLUSION = ("ALTER TABLE reservations ADD CONSTRAINT ex_reservations_participant_id_overlap "
             "EXCLUDE USING gist (participant_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
             "WHERE (live AND participant_id IS NOT NULL)")


def _backfill(bind: sa.engine.Connection) -> int:
    rows = bind.execute(sa.text(
        "SELECT a.id, t.participant_id, a.start, a.\"end\", r.expires_at FROM appointments a "
        "JOIN attendances t ON t.appointment_id = a.id "
        "LEFT JOIN (SELECT appointment_id, MAX(expires_at) AS expires_at FROM reservations WHERE live "
        "GROUP BY appointment_id) r ON r.appointment_id = a.id "
        "WHERE a.status IN ('held', 'confirmed') ORDER BY a.start, a.id")).all()
    taken: dict[int, list[tuple[object, object]]] = {}
    skipped = 0
    for appointment_id, participant_id, start, end, expires_at in rows:
        spans = taken.setdefault(participant_id, [])
        if any(s < end and start < e for s, e in spans):
            skipped += 1
            continue
        spans.append((start, end))
        bind.execute(sa.text(
            "INSERT INTO reservations (appointment_id, participant_id, starts_at, ends_at, live, expires_at) "
            "VALUES (:a, :p, :s, :e, :live, :x)"),
            {"a": appointment_id, "p": participant_id, "s": start, "e": end, "live": True, "x": expires_at})
    return skipped


def upgrade() -> None:
    bind = op.get_bind()
    is_postgres = bind.dialect.name == "postgresql"
    with op.batch_alter_table('appointments') as batch:
        batch.add_column(sa.Column('waiting_area_reason', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('outside_hours_reason', sa.String(length=40), nullable=True))
    with op.batch_alter_table('reservations') as batch:
        batch.add_column(sa.Column('participant_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_reservations_participant_id_participants'), 'participants',
                                 ['participant_id'], ['id'], ondelete='CASCADE')
        batch.drop_constraint(op.f('ck_reservations_one_resource'), type_='check')
        batch.create_check_constraint(op.f('ck_reservations_one_resource'), NEW_ONE_RESOURCE)
    op.create_index('ix_reservations_participant_span', 'reservations',
                    ['participant_id', 'starts_at', 'ends_at'], unique=False)
    skipped = _backfill(bind)
    if skipped:
        print(f"0008: {skipped} overlapping participant reservation(s) not created; check those appointments")
    if is_postgres:
        op.execute(EXCLUSION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE reservations DROP CONSTRAINT ex_reservations_participant_id_overlap")
    op.execute("DELETE FROM reservations WHERE participant_id IS NOT NULL")
    op.drop_index('ix_reservations_participant_span', table_name='reservations')
    with op.batch_alter_table('reservations') as batch:
        batch.drop_constraint(op.f('ck_reservations_one_resource'), type_='check')
        batch.create_check_constraint(op.f('ck_reservations_one_resource'), OLD_ONE_RESOURCE)
        batch.drop_constraint(op.f('fk_reservations_participant_id_participants'), type_='foreignkey')
        batch.drop_column('participant_id')
    with op.batch_alter_table('appointments') as batch:
        batch.drop_column('outside_hours_reason')
        batch.drop_column('waiting_area_reason')
