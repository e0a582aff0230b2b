"""Models and migrations agree; PostgreSQL's exclusion constraints exist and bite."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from composition import metadata
from core.db import Database
from core.migrate import alembic_config, upgrade
from tests.conftest import ADMIN_URL, service_unavailable
from tests import factories

EXCLUSIONS = ("ex_reservations_mediator_id_overlap", "ex_reservations_participant_id_overlap",
              "ex_reservations_room_id_overlap")


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own, not yet migrated."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
        try:
            yield db.engine
        finally:
            db.dispose()
        return
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        conn = admin.connect()
    except OperationalError:
        admin.dispose()
        service_unavailable("PostgreSQL")
    name = f"pendel_mig_{uuid.uuid4().hex[:10]}"
    conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield db.engine
    finally:
        db.dispose()
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.close()
        admin.dispose()


def _differences(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
    return compare_metadata(ctx, metadata())


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def test_upgrade_creates_exactly_the_models(fresh_engine: Engine) -> None:
    with fresh_engine.connect() as conn:
        assert _revision(conn) is None
        assert inspect(conn).get_table_names() == []
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        assert _revision(conn) is not None
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set(metadata().tables)
        assert _differences(conn) == []


def test_upgrade_is_idempotent(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        head = _revision(conn)
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        assert _revision(conn) == head
        assert _differences(conn) == []


def test_downgrade_to_base_and_up_again(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    cfg = alembic_config(fresh_engine.url.render_as_string(hide_password=False))
    with fresh_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with fresh_engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        assert _differences(conn) == []


def test_the_comparison_notices_a_drifted_schema(fresh_engine: Engine) -> None:
    # Proof that an empty diff above means something: drift the database and look again.
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        conn.execute(text("ALTER TABLE rooms ADD COLUMN colour VARCHAR(20)"))
        conn.execute(text("CREATE INDEX ix_rooms_drift ON rooms (name)"))
        diffs = _differences(conn)
        conn.rollback()
    flat = repr(diffs)
    assert "colour" in flat and "ix_rooms_drift" in flat


# --- PostgreSQL only: the exclusion constraints behind invariant 1 ------------

@pytest.fixture
def pg(database: Database) -> Database:
    assert not database.is_sqlite
    return database


def test_exclusion_constraints_exist(pg: Database) -> None:
    with pg.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'reservations'::regclass AND contype = 'x' ORDER BY conname")).all()
    assert [r[0] for r in rows] == list(EXCLUSIONS)
    for name, _type, definition in rows:
        column = next(c for c in ("mediator_id", "room_id", "participant_id") if c in name)
        assert "USING gist" in definition
        assert f"{column} WITH =" in definition
        assert "tstzrange(starts_at, ends_at, '[)'::text) WITH &&" in definition
        assert "live" in definition and f"{column} IS NOT NULL" in definition


def _setup(pg: Database) -> dict[str, int]:
    with pg.session() as s:
        m = factories.mediator(s)
        other = factories.mediator(s)
        loc = factories.location(s, rooms=1)
        c = factories.case(s, [m, other])
        ids = {"mediator": m.id, "other": other.id, "room": loc.rooms[0].id, "case": c.id,
               "participant": c.participants[0].id}
        for i in (1, 2, 3):
            ids[f"appt{i}"] = s.execute(text(
                "INSERT INTO appointments (case_id, kind, mode, start, \"end\", status, waiting_area_override, "
                "version, created_at, updated_at) VALUES (:c, 'intake', 'phone', :s, :e, 'confirmed', false, 1, "
                "now(), now()) RETURNING id"),
                {"c": c.id, "s": T0, "e": T0 + timedelta(hours=1)}).scalar_one()
        s.commit()
    return ids


T0 = datetime(2030, 3, 4, 9, 0, tzinfo=timezone.utc)
INSERT = text("INSERT INTO reservations (appointment_id, mediator_id, room_id, participant_id, starts_at, ends_at, "
              "live) VALUES (:a, :m, :r, :p, :s, :e, :live)")


def _reserve(conn: Connection, appointment: int, start: datetime, end: datetime, *, mediator: int | None = None,
             room: int | None = None, participant: int | None = None, live: bool = True) -> None:
    conn.execute(INSERT, {"a": appointment, "m": mediator, "r": room, "p": participant, "s": start, "e": end,
                          "live": live})


def _constraint_of(exc: IntegrityError) -> str:
    return getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""


def test_overlapping_live_reservations_for_one_mediator_are_refused(pg: Database) -> None:
    ids = _setup(pg)
    with pg.engine.begin() as conn:
        _reserve(conn, ids["appt1"], T0, T0 + timedelta(hours=1), mediator=ids["mediator"])
    with pytest.raises(IntegrityError) as info:
        with pg.engine.begin() as conn:
            _reserve(conn, ids["appt2"], T0 + timedelta(minutes=30), T0 + timedelta(hours=2),
                     mediator=ids["mediator"])
    assert info.value.orig.sqlstate == "23P01"  # exclusion_violation
    assert _constraint_of(info.value) == "ex_reservations_mediator_id_overlap"
    with pg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reservations")).scalar_one() == 1


def test_overlapping_live_reservations_for_one_room_are_refused(pg: Database) -> None:
    ids = _setup(pg)
    with pg.engine.begin() as conn:
        _reserve(conn, ids["appt1"], T0, T0 + timedelta(hours=1), room=ids["room"])
    with pytest.raises(IntegrityError) as info:
        with pg.engine.begin() as conn:
            _reserve(conn, ids["appt2"], T0 - timedelta(minutes=10), T0 + timedelta(minutes=1), room=ids["room"])
    assert info.value.orig.sqlstate == "23P01"
    assert _constraint_of(info.value) == "ex_reservations_room_id_overlap"


def test_overlapping_live_reservations_for_one_participant_are_refused(pg: Database) -> None:
    ids = _setup(pg)
    with pg.engine.begin() as conn:
        _reserve(conn, ids["appt1"], T0, T0 + timedelta(hours=1), participant=ids["participant"])
    with pytest.raises(IntegrityError) as info:
        with pg.engine.begin() as conn:
            _reserve(conn, ids["appt2"], T0 + timedelta(minutes=59), T0 + timedelta(hours=2),
                     participant=ids["participant"])
    assert info.value.orig.sqlstate == "23P01"
    assert _constraint_of(info.value) == "ex_reservations_participant_id_overlap"


def test_what_the_constraint_allows(pg: Database) -> None:
    ids = _setup(pg)
    hour = timedelta(hours=1)
    with pg.engine.begin() as conn:
        _reserve(conn, ids["appt1"], T0, T0 + hour, mediator=ids["mediator"])
        # A non-live (cancelled, rescheduled-away) row may overlap.
        _reserve(conn, ids["appt2"], T0, T0 + hour, mediator=ids["mediator"], live=False)
        # Back to back is not an overlap: the range is half-open [start, end).
        _reserve(conn, ids["appt3"], T0 + hour, T0 + 2 * hour, mediator=ids["mediator"])
        # Another mediator and a room at the same time are other resources.
        _reserve(conn, ids["appt2"], T0, T0 + hour, mediator=ids["other"])
        _reserve(conn, ids["appt1"], T0, T0 + hour, room=ids["room"])
    with pg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reservations")).scalar_one() == 5
    # Reviving the cancelled overlapping row is refused as well.
    with pytest.raises(IntegrityError) as info:
        with pg.engine.begin() as conn:
            conn.execute(text("UPDATE reservations SET live = true WHERE NOT live"))
    assert info.value.orig.sqlstate == "23P01"


def test_a_reservation_must_name_exactly_one_resource(pg: Database) -> None:
    ids = _setup(pg)
    with pytest.raises(IntegrityError):
        with pg.engine.begin() as conn:
            _reserve(conn, ids["appt1"], T0, T0 + timedelta(hours=1), mediator=ids["mediator"], room=ids["room"])
    with pytest.raises(IntegrityError):
        with pg.engine.begin() as conn:
            _reserve(conn, ids["appt1"], T0, T0 + timedelta(hours=1), room=ids["room"], participant=ids["participant"])
    with pytest.raises(IntegrityError):
        with pg.engine.begin() as conn:
            _reserve(conn, ids["appt1"], T0, T0 + timedelta(hours=1))
    with pytest.raises(IntegrityError):
        with pg.engine.begin() as conn:
            _reserve(conn, ids["appt1"], T0, T0, mediator=ids["mediator"])


def test_0008_gives_live_appointments_their_participant_reservations(fresh_engine: Engine) -> None:
    """Existing appointments get participant rows; one that already overlaps for a participant keeps none
    rather than failing the upgrade."""
    cfg = alembic_config(fresh_engine.url.render_as_string(hide_password=False))
    with fresh_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
    appointment = text(
        "INSERT INTO appointments (case_id, kind, mode, start, \"end\", status, waiting_area_override, version, "
        "created_at, updated_at) VALUES (:c, 'intake', 'phone', :s, :e, :status, false, 1, :s, :s)")
    with fresh_engine.begin() as conn:
        conn.execute(text("INSERT INTO cases (id, reference, kind, status, created_at) "
                          "VALUES (1, 'HB-1', 'crime', 'intake', :t)"), {"t": T0})
        conn.execute(text("INSERT INTO participants (id, case_id, name, role, language, sms_allowed, email_allowed, "
                          "full_text_opt_in) VALUES (7, 1, 'P', 'victim', 'nl', false, false, false)"))
        for status, start in (("confirmed", T0), ("confirmed", T0 + timedelta(minutes=30)),
                              ("cancelled", T0), ("confirmed", T0 + timedelta(days=1))):
            conn.execute(appointment, {"c": 1, "s": start, "e": start + timedelta(hours=1), "status": status})
        conn.execute(text("INSERT INTO attendances (appointment_id, participant_id) "
                          "SELECT id, 7 FROM appointments"))
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        rows = conn.execute(text("SELECT appointment_id FROM reservations WHERE participant_id = 7 "
                                 "ORDER BY appointment_id")).scalars().all()
        assert _differences(conn) == []
    assert rows == [1, 4]
