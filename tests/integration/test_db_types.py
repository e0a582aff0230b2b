"""UTCDateTime: UTC-aware in, UTC-aware out, on SQLite and PostgreSQL alike."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import StatementError

from core.db import Database, UTCDateTime
from tests.conftest import both_databases
from tests import factories

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def stamps(database: Database):  # type: ignore[no-untyped-def]
    """A scratch table with one UTCDateTime column (dropped again afterwards)."""
    meta = MetaData()
    table = Table("test_utc_stamps", meta, Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    meta.drop_all(database.engine)
    meta.create_all(database.engine)
    try:
        yield table
    finally:
        meta.drop_all(database.engine)


def _roundtrip(database: Database, table: Table, value: datetime | None) -> datetime | None:
    with database.engine.begin() as conn:
        row_id = conn.execute(insert(table).values(at=value).returning(table.c.id)).scalar_one()
    with database.engine.connect() as conn:
        return conn.execute(select(table.c.at).where(table.c.id == row_id)).scalar_one()


@both_databases
def test_aware_utc_round_trips(database: Database, stamps: Table) -> None:
    value = datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=timezone.utc)
    back = _roundtrip(database, stamps, value)
    assert back == value
    assert back.tzinfo is not None and back.utcoffset() == timedelta(0)
    assert back.replace(tzinfo=None) == value.replace(tzinfo=None)  # wall clock is UTC, not shifted


@both_databases
def test_offset_value_comes_back_as_the_same_instant_in_utc(database: Database, stamps: Table) -> None:
    value = datetime(2026, 7, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    back = _roundtrip(database, stamps, value)
    assert back == value
    assert back.utcoffset() == timedelta(0)
    assert (back.hour, back.minute) == (12, 30)


@both_databases
def test_zoneinfo_value_across_dst_keeps_the_instant(database: Database, stamps: Table) -> None:
    # 02:30 on 2026-10-25 happens twice in Amsterdam; fold=1 is the second (CET, +01:00).
    second = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=AMS)
    first = datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=AMS)
    assert _roundtrip(database, stamps, first) == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)
    assert _roundtrip(database, stamps, second) == datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)


@both_databases
def test_none_stays_none(database: Database, stamps: Table) -> None:
    assert _roundtrip(database, stamps, None) is None


@both_databases
def test_naive_value_is_refused_and_nothing_is_written(database: Database, stamps: Table) -> None:
    with pytest.raises(StatementError) as info:
        with database.engine.begin() as conn:
            conn.execute(insert(stamps).values(at=datetime(2026, 7, 1, 12, 0)))
    assert isinstance(info.value.orig, ValueError)
    assert "naive" in str(info.value.orig)
    with database.engine.connect() as conn:
        assert conn.execute(select(stamps.c.at)).all() == []


@both_databases
def test_stored_value_is_utc_in_the_database_itself(database: Database, stamps: Table) -> None:
    _roundtrip(database, stamps, datetime(2026, 1, 15, 10, 0, tzinfo=AMS))  # 09:00 UTC
    with database.engine.connect() as conn:
        if database.is_sqlite:
            raw = conn.execute(text("SELECT at FROM test_utc_stamps")).scalar_one()
            assert str(raw).startswith("2026-01-15 09:00:00")
        else:
            raw = conn.execute(text("SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
                                    "FROM test_utc_stamps")).scalar_one()
            assert raw == "2026-01-15 09:00"


@both_databases
def test_orm_models_return_aware_utc_and_compare_in_queries(database: Database) -> None:
    from scheduler.models import Participant

    with database.session() as session:
        m = factories.mediator(session)
        c = factories.case(session, [m])
        person = c.participants[0]
        person.withdrawn_at = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
        session.commit()
        person_id = person.id
    with database.session() as session:
        loaded = session.get(Participant, person_id)
        assert loaded is not None
        assert loaded.withdrawn_at == datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)
        assert loaded.withdrawn_at.utcoffset() == timedelta(0)
        # A comparison in SQL uses the same instant, whatever zone the parameter is in.
        before = datetime(2026, 6, 1, 11, 59, tzinfo=AMS)  # 09:59 UTC
        after = datetime(2026, 6, 1, 12, 1, tzinfo=AMS)  # 10:01 UTC
        assert session.scalar(select(Participant.id).where(Participant.withdrawn_at > before)) == person_id
        assert session.scalar(select(Participant.id).where(Participant.withdrawn_at > after)) is None


def test_database_errors_do_not_quote_personal_data(database) -> None:
    """An error message (which ends up in logs) must not carry the statement's parameters."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from core.auth import create_user

    with database.write_session() as s:
        create_user(s, "dup@example.org", "Eerste", "coordinator", "a long enough password")
    with pytest.raises(IntegrityError) as err, database.write_session() as s:
        from core.models import User

        s.add(User(email="dup@example.org", name="Geheime Naam", role="mediator", password_hash="x"))
        s.flush()
    # The parameters are hidden; PostgreSQL itself still names the duplicate key value in its DETAIL.
    assert "Geheime Naam" not in str(err.value) and "parameters hidden" in str(err.value)
