"""Erasure at its edges: a number or address shared with someone else, the participant's own words quoted to
a mediator, an undo or a reopening that commits meanwhile, and a session without the subscribers."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import Database, utcnow
from core.periodic import _own_connections
from core.problems import Conflict
from notifications.models import OPEN_STATUSES, OutboxMessage
from scheduler import booking, casework, withdrawal
from scheduler.erasure import NotErasable, erase_closed_cases, erase_participant, plan_erasure
from scheduler.models import Case, Participant
from scheduler.registration_models import Registration
from tests.integration.booking_helpers import POLICY, request
from tests.integration.erasure_helpers import close_case, coordinator_of
from tests.integration.participant_helpers import book_with_link, settings  # noqa: F401 - the fixture
from tests.integration.test_dispatch import id_base, make_row

AFTER = timedelta(days=730)


def _registration(s, p: Participant, **kw) -> int:  # type: ignore[no-untyped-def]
    row = Registration(registrant="self", name=kw.pop("name", p.name), phone=p.phone, email=p.email,
                       language="nl", role="victim", kind="crime", other_party_known="yes", status="case_opened",
                       case_id=p.case_id, handled_at=utcnow(), **kw)
    s.add(row)
    s.flush()
    return row.id


def test_a_shared_number_and_address_keep_the_other_persons_messages_and_registration(runtime) -> None:
    booked = book_with_link(runtime)
    coordinator = coordinator_of(runtime)
    me, other_case = booked.participant_id, booked.world.other_case_id
    with runtime.db.write_session() as s:
        mine = s.get(Participant, me)
        sharer = s.get(Participant, booked.world.other_participant_ids[0])
        sharer.phone, sharer.email = mine.phone, mine.email  # one household, two cases
        sharer_id = sharer.id
        own_registration = _registration(s, mine, participant_id=me)
        housemate = _registration(s, mine, name="Iemand Anders")  # same number and email, another person
    with runtime.db.write_session() as s:
        booking.book(s, request(booked.world, booked.start + timedelta(hours=3), case_id=other_case,
                                participant_ids=(sharer_id,), mediator_ids=(booked.world.mediator_ids[1],)),
                     None, utcnow(), policy=POLICY)
        withdrawal.withdraw(s, me, coordinator, utcnow())
    with runtime.db.sessions() as s:
        before = {r.id: (r.status, r.body) for r in s.scalars(select(OutboxMessage)
                                                              .where(OutboxMessage.participant_id == sharer_id))}
    assert before and any(status in OPEN_STATUSES for status, _ in before.values())
    with runtime.db.write_session() as s:
        erase_participant(s, me, coordinator, utcnow())
    with runtime.db.sessions() as s:
        after = {r.id: (r.status, r.body) for r in s.scalars(select(OutboxMessage)
                                                             .where(OutboxMessage.participant_id == sharer_id))}
        assert after == before, "the other person's messages were touched"
        assert s.get(Registration, own_registration) is None and s.get(Registration, housemate) is not None


def test_their_words_quoted_to_a_mediator_go_with_them(runtime) -> None:
    booked = book_with_link(runtime)
    coordinator = coordinator_of(runtime)
    me, base, now = booked.participant_id, id_base(), utcnow()
    mediator = booked.world.mediator_ids[0]
    with runtime.db.write_session() as s:
        for i, status in enumerate(("sent", "pending")):
            make_row(s, base + i, now, kind="mediator_notice", channel="email", recipient_kind="mediator",
                     mediator_id=mediator, to_address="bemiddelaar@example.org", status=status,
                     idempotency_key=f"sms-in:SM{base + i}:reply:p{me}:m{mediator}",
                     body="Zij schreef: ik durf niet te komen, bel me op mijn werk")
        withdrawal.withdraw(s, me, coordinator, now)
    with runtime.db.write_session() as s:
        erase_participant(s, me, coordinator, utcnow())
    with runtime.db.sessions() as s:
        rows = [s.get(OutboxMessage, base + i) for i in range(2)]
        assert [(r.status, r.body) for r in rows] == [("sent", None), ("cancelled", None)]


def test_an_undo_of_their_stop_that_commits_first_stops_the_erasure(runtime) -> None:
    booked = book_with_link(runtime)
    coordinator = coordinator_of(runtime)
    me = booked.participant_id
    with runtime.db.write_session() as s:
        withdrawal.withdraw(s, me, coordinator, utcnow())
    with pytest.raises(NotErasable, match="stop first"), runtime.db.write_session() as s:
        assert plan_erasure(s, me, s.merge(coordinator)).possible  # what the page showed: they had stopped
        with runtime.db.write_session() as other:
            withdrawal.undo_withdrawal(other, me, coordinator, utcnow())
        erase_participant(s, me, s.merge(coordinator), utcnow())
    with runtime.db.sessions() as s:
        assert s.get(Participant, me).erased_at is None


def test_a_reopening_after_the_erasure_committed_is_refused(runtime) -> None:
    booked = book_with_link(runtime)
    coordinator = coordinator_of(runtime)
    case_id, closed = booked.world.case_id, utcnow()
    close_case(runtime, booked, coordinator, closed)
    with pytest.raises(Conflict, match="erased"), runtime.db.write_session() as s:
        assert s.get(Case, case_id).erased_at is None  # what the reopening saw first
        with runtime.db.write_session() as other:
            assert erase_closed_cases(other, closed + AFTER + timedelta(days=1), AFTER, 20) == 1
        casework.update_case(s, s.merge(coordinator), case_id, {"status": "contact"}, utcnow())
    with runtime.db.sessions() as s:
        case = s.get(Case, case_id)
        assert (case.status, case.erased_at is not None) == ("closed", True)


def test_no_erasure_without_the_subscribers_and_the_periodic_loop_has_them(runtime) -> None:
    booked = book_with_link(runtime)
    coordinator = coordinator_of(runtime)
    with runtime.db.write_session() as s:
        withdrawal.withdraw(s, booked.participant_id, coordinator, utcnow())
    bare = Database(runtime.settings.database_url)
    try:
        with pytest.raises(RuntimeError, match="subscribers"), bare.write_session() as s:
            erase_participant(s, booked.participant_id, s.merge(coordinator), utcnow())
    finally:
        bare.dispose()
    loop_db, redis_conn, owned = _own_connections(runtime)
    try:
        with loop_db.write_session() as s:
            erase_participant(s, booked.participant_id, s.merge(coordinator), utcnow())
    finally:
        if owned:
            loop_db.dispose()
    with runtime.db.sessions() as s:
        assert s.get(Participant, booked.participant_id).erased_at is not None
