"""Erasure: one participant at once on request, a closed case two years (CLOSED_CASE_ERASE_DAYS) after closing.

Proved by searching every text column of the database for the erased details afterwards, with the
app's subscribers wired (the outbox and the callback queue drop their copies in the same transaction).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import utcnow
from core.models import AuditEntry
from core.problems import Conflict, Forbidden, InvalidInput, NotFound
from notifications.models import OutboxMessage
from scheduler import booking, casework, offers, withdrawal
from scheduler.erasure import ERASED_NAME, NotErasable, erase_closed_cases, erase_participant
from scheduler.models import Case, Mediator, MediatorTask, Participant
from scheduler.participant_models import ParticipantLink
from telephony.models import CallbackRequest
from tests.conftest import both_databases
from tests.factories import staff
from tests.integration.booking_helpers import POLICY, future_start, request
from tests.integration.erasure_helpers import (callback_request, close_case, coordinator_of, copies_of, details_of,
                                               everywhere)
from tests.integration.participant_helpers import book_with_link, settings  # noqa: F401 - the fixture

AFTER = timedelta(days=730)


@both_databases
def test_a_participant_who_stopped_is_erased_with_every_copy_and_the_others_keep_theirs(runtime) -> None:
    booked = book_with_link(runtime, joint=True)
    coordinator = coordinator_of(runtime)
    with runtime.db.write_session() as s:
        copies_of(s, booked.participant_id, booked.world.mediator_ids[0])
        unlinked = callback_request(s, s.get(Participant, booked.participant_id).phone, None, status="open")
        mine, theirs = details_of(s, booked.participant_id), details_of(s, booked.other_id)
    with runtime.db.sessions() as s:  # closed at once: an open one would hold up the next test's TRUNCATE
        assert everywhere(s, mine)  # the set-up put them in several tables
    with runtime.db.write_session() as s:
        withdrawal.withdraw(s, booked.participant_id, coordinator, utcnow())
    with runtime.db.write_session() as s:
        erase_participant(s, booked.participant_id, coordinator, utcnow())
    with runtime.db.sessions() as s:
        # Only the callback request not linked to the case keeps the number (a shared line may be another's
        # call): the retention purge takes it. Nothing else of theirs is left anywhere.
        assert everywhere(s, mine) == ["callback_requests.caller_number", "callback_requests.number"]
        assert s.scalars(select(CallbackRequest.id)).all() == [unlinked]
        p = s.get(Participant, booked.participant_id)
        assert (p.name, p.phone, p.email, p.address, p.sms_allowed, p.email_allowed) == \
            (ERASED_NAME, None, None, None, False, False)
        assert p.erased_at is not None and p.role == "victim" and p.withdrawn_at is not None  # statistics stay
        assert s.scalars(select(ParticipantLink).where(ParticipantLink.participant_id == p.id)).all() == []
        notes = [t.note for t in s.scalars(select(MediatorTask).where(MediatorTask.participant_id == p.id))]
        assert notes and set(notes) == {""}
        assert all(m.body is None and m.to_address is None for m in
                   s.scalars(select(OutboxMessage).where(OutboxMessage.participant_id == p.id)))
        # The other party's details and messages are untouched.
        assert details_of(s, booked.other_id) == theirs
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "participant.erased")).all()
        assert [(a.object_type, a.object_id, a.actor_id, a.detail) for a in audit] == \
            [("participant", p.id, coordinator.id, "")]


def test_a_participant_still_taking_part_in_an_open_case_is_not_erased(runtime) -> None:
    booked = book_with_link(runtime)
    coordinator = coordinator_of(runtime)
    with runtime.db.sessions() as s:
        before = details_of(s, booked.participant_id)
    with pytest.raises(NotErasable, match="stop first"), runtime.db.write_session() as s:
        erase_participant(s, booked.participant_id, coordinator, utcnow())
    with runtime.db.sessions() as s:
        assert details_of(s, booked.participant_id) == before


def test_only_a_coordinator_erases(runtime) -> None:
    booked = book_with_link(runtime)
    with runtime.db.write_session() as s:
        mediator_user = staff(s, "mediator", s.get(Mediator, booked.world.mediator_ids[0]))[0]
        stranger = staff(s, "mediator")[0]  # not on the case: the same 404 as an unknown id
        withdrawal.withdraw(s, booked.participant_id, None, utcnow())
    with pytest.raises(Forbidden), runtime.db.write_session() as s:
        erase_participant(s, booked.participant_id, mediator_user, utcnow())
    with pytest.raises(NotFound), runtime.db.write_session() as s:
        erase_participant(s, booked.participant_id, stranger, utcnow())
    with runtime.db.sessions() as s:
        assert s.get(Participant, booked.participant_id).erased_at is None


def test_an_erased_participant_is_never_planned_changed_or_brought_back(runtime) -> None:
    """Erased in a closed case without having stopped; the case reopens: every writer refuses them."""
    booked = book_with_link(runtime)
    coordinator = coordinator_of(runtime)
    me, case_id = booked.participant_id, booked.world.case_id
    close_case(runtime, booked, coordinator, utcnow())
    with runtime.db.write_session() as s:
        erase_participant(s, me, coordinator, utcnow())
    with pytest.raises(NotErasable, match="already"), runtime.db.write_session() as s:
        erase_participant(s, me, coordinator, utcnow())
    with runtime.db.write_session() as s:
        casework.update_case(s, coordinator, case_id, {"status": "contact"}, utcnow())
    with pytest.raises(InvalidInput, match="erased"), runtime.db.write_session() as s:
        booking.book(s, request(booked.world, future_start() + timedelta(days=1), participant_ids=(me,)),
                     coordinator, utcnow(), policy=POLICY)
    later = future_start() + timedelta(days=1)
    with pytest.raises(Conflict, match="erased"), runtime.db.write_session() as s:
        offers.make_offer(s, coordinator, me, [request(booked.world, later + timedelta(hours=h)) for h in (0, 2)],
                          utcnow(), policy=POLICY, hours=48)
    with pytest.raises(Conflict, match="erased"), runtime.db.write_session() as s:
        casework.update_participant(s, coordinator, me, {"name": "Back again"})
    with runtime.db.write_session() as s:
        withdrawal.withdraw(s, me, coordinator, utcnow())
    with pytest.raises(Conflict, match="erased"), runtime.db.write_session() as s:
        withdrawal.undo_withdrawal(s, me, coordinator, utcnow())
    with runtime.db.sessions() as s:
        assert s.get(Participant, me).name == ERASED_NAME


@both_databases
def test_a_closed_case_is_erased_two_years_after_closing_and_not_a_day_before(runtime) -> None:
    booked = book_with_link(runtime, joint=True)
    coordinator = coordinator_of(runtime)
    case_id, closed = booked.world.case_id, utcnow()
    with runtime.db.write_session() as s:
        copies_of(s, booked.other_id, booked.world.mediator_ids[0])
    close_case(runtime, booked, coordinator, closed)
    with runtime.db.sessions() as s:
        everyone = details_of(s, booked.participant_id) + details_of(s, booked.other_id)
        still_open = details_of(s, booked.world.other_participant_ids[0])
    with runtime.db.write_session() as s:
        assert s.get(Case, case_id).closed_at == closed
        assert erase_closed_cases(s, closed + AFTER - timedelta(minutes=1), AFTER, 20) == 0
    with runtime.db.write_session() as s:
        assert erase_closed_cases(s, closed + AFTER + timedelta(minutes=1), AFTER, 20) == 1
    with runtime.db.write_session() as s:
        assert erase_closed_cases(s, closed + AFTER + timedelta(minutes=2), AFTER, 20) == 0  # once
    with runtime.db.sessions() as s:
        assert everywhere(s, everyone) == []
        assert s.scalars(select(CallbackRequest).where(CallbackRequest.case_id == case_id)).all() == []
        case = s.get(Case, case_id)
        assert case.erased_at is not None and case.kind == "crime" and len(case.participants) == 2
        assert {p.role for p in case.participants} == {"victim", "offender"}
        assert details_of(s, booked.world.other_participant_ids[0]) == still_open  # another case's people
        assert [(a.object_id, a.actor_id) for a in s.scalars(select(AuditEntry)
                                                              .where(AuditEntry.action == "case.erased"))] == [(case_id, None)]
    with pytest.raises(Conflict, match="erased"), runtime.db.write_session() as s:
        casework.update_case(s, coordinator, case_id, {"status": "contact"}, utcnow())


def test_closing_times_the_erasure_and_reopening_stops_it(runtime) -> None:
    booked = book_with_link(runtime)
    coordinator = coordinator_of(runtime)
    case_id, start = booked.world.case_id, utcnow()
    close_case(runtime, booked, coordinator, start)
    with runtime.db.write_session() as s:
        casework.update_case(s, coordinator, case_id, {"status": "contact"}, start + timedelta(days=1))
        assert s.get(Case, case_id).closed_at is None
    with runtime.db.write_session() as s:
        assert erase_closed_cases(s, start + AFTER * 2, AFTER, 20) == 0


def test_the_purge_command_erases_closed_cases_and_says_so(app, runtime) -> None:
    booked = book_with_link(runtime)
    coordinator = coordinator_of(runtime)
    long_ago = utcnow() - AFTER - timedelta(days=1)
    close_case(runtime, booked, coordinator, long_ago)
    dry = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert "erase-closed-cases: would remove 1 cases' personal data, 2 participants' details" in dry.output, dry.output
    done = app.test_cli_runner().invoke(args=["purge"])
    assert "erase-closed-cases: removed 1 cases' personal data, 2 participants' details" in done.output, done.output
    with runtime.db.sessions() as s:
        assert s.get(Case, booked.world.case_id).erased_at is not None
