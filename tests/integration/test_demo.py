"""Demo data for a fresh install: loaded once, sensible, and never twice."""
from __future__ import annotations

import phonenumbers
from sqlalchemy import func, select

from core.auth import check_password
from core.db import Database
from core.models import User
from scheduler.demo import DEMO_PASSWORD, load_demo_if_empty
from scheduler.models import (CASE_KINDS, CASE_STATUSES, PARTICIPANT_ROLES, Case, Location, Mediator,
                              Participant, Room)
from tests import factories
from tests.conftest import both_databases


def _counts(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Mediator, Location, Room, Case, Participant, User)}


def _is_e164(number: str) -> bool:
    parsed = phonenumbers.parse(number, None)
    return (phonenumbers.is_valid_number(parsed)
            and phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number)


@both_databases
def test_loads_a_usable_office(database: Database) -> None:
    with database.write_session() as session:
        assert load_demo_if_empty(session) is True
    with database.session() as session:
        mediators = session.scalars(select(Mediator)).all()
        assert len(mediators) >= 2
        for m in mediators:
            assert m.active and m.working_hours
            assert all(0 <= h["weekday"] <= 6 and h["start"] < h["end"] for h in m.working_hours)
            assert m.phone is None or _is_e164(m.phone)

        locations = session.scalars(select(Location)).all()
        cities = {loc.city for loc in locations}
        assert len(cities) >= 2
        assert all(loc.rooms for loc in locations), "every location has rooms"
        assert any(r.separate_waiting_area for loc in locations for r in loc.rooms), "joint meetings need one"

        cases = session.scalars(select(Case)).all()
        assert cases
        assert len({c.reference for c in cases}) == len(cases)
        participants = []
        for c in cases:
            assert c.kind in CASE_KINDS and c.status in CASE_STATUSES
            assert c.mediators, f"case {c.reference} has a mediator"
            assert c.participants
            participants.extend(c.participants)
        phones = [p.phone for p in participants if p.phone]
        assert phones
        assert all(_is_e164(p) for p in phones), phones
        assert all(p.role in PARTICIPANT_ROLES and p.language in ("nl", "en") for p in participants)
        assert all(p.withdrawn_at is None for p in participants)
        # No demo sign-ins unless asked for.
        assert session.scalar(select(func.count()).select_from(User)) == 0


@both_databases
def test_second_call_is_a_no_op(database: Database) -> None:
    with database.write_session() as session:
        assert load_demo_if_empty(session) is True
    with database.session() as session:
        before = _counts(session)
    with database.write_session() as session:
        assert load_demo_if_empty(session) is False
        assert load_demo_if_empty(session, with_users=True) is False
    with database.session() as session:
        assert _counts(session) == before


def test_not_loaded_into_a_database_that_already_has_mediators(database: Database) -> None:
    with database.write_session() as session:
        factories.mediator(session, name="Echte Bemiddelaar")
    with database.write_session() as session:
        assert load_demo_if_empty(session, with_users=True) is False
    with database.session() as session:
        assert _counts(session) == {"Mediator": 1, "Location": 0, "Room": 0, "Case": 0, "Participant": 0, "User": 0}


def test_with_users_creates_sign_ins_and_links_a_mediator(database: Database) -> None:
    with database.write_session() as session:
        assert load_demo_if_empty(session, with_users=True) is True
    with database.session() as session:
        users = session.scalars(select(User).order_by(User.id)).all()
        roles = {u.role for u in users}
        assert {"coordinator", "mediator"} <= roles
        for user in users:
            assert check_password(user, DEMO_PASSWORD)
            assert DEMO_PASSWORD not in user.password_hash
        mediator_user = next(u for u in users if u.role == "mediator")
        linked = session.scalar(select(Mediator).where(Mediator.user_id == mediator_user.id))
        assert linked is not None
        assert any(linked in c.mediators for c in session.scalars(select(Case)))


@both_databases
def test_demo_intakes_are_booked_through_the_booking_path(database: Database) -> None:
    from core.db import utcnow
    from scheduler.models import Appointment, Reservation

    with database.write_session() as session:
        load_demo_if_empty(session)
    with database.session() as session:
        appointments = session.scalars(select(Appointment).order_by(Appointment.start)).all()
        assert [(a.kind, a.mode, a.status) for a in appointments] == [
            ("intake", "in_person", "confirmed"), ("intake", "phone", "confirmed")]
        assert all(a.start > utcnow() for a in appointments)
        live = session.scalar(select(func.count()).select_from(Reservation).where(Reservation.live))
        assert live == 5  # mediator, room and participant for the first; mediator and participant by phone


@both_databases
def test_demo_callback_requests_fill_the_queue_like_the_phone_line_would(database: Database) -> None:
    from datetime import datetime, timezone

    from core.config import Settings
    from core.workdays import WorkingDayCalendar
    from telephony.demo import load_demo_callbacks
    from telephony.models import CallbackRequest

    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=timezone.utc)
    with database.write_session() as session:
        load_demo_if_empty(session)
        assert load_demo_callbacks(session, friday_evening, Settings(), WorkingDayCalendar()) == 3
    with database.session() as session:
        rows = session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)).all()
        case_id = session.scalar(select(Case.id).where(Case.reference == "HB-2026-0001"))
        assert [(r.status, r.case_id, r.number_typed_in, r.language, r.moment, r.wants_confirmation)
                for r in rows] == [("open", case_id, False, "nl", "morning", False),
                                   ("open", None, True, "nl", "afternoon", False),
                                   ("open", None, False, "en", "no_preference", False)]
        # Due on Monday 30 November (the next working day), in the part each caller chose.
        assert [r.due_at.isoformat() for r in rows] == ["2026-11-30T11:00:00+00:00", "2026-11-30T16:00:00+00:00",
                                                        "2026-11-30T16:00:00+00:00"]
        assert all(_is_e164(r.number) for r in rows)
