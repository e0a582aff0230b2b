"""The personal link in what participants are actually written (the outbox rows), checked with the rule that
opens it (scheduler.links.resolve); the message about times to choose from; the mediators' notice of an answer.

Every writer of participant messages is covered: the booking (confirmation and reminders), a reschedule, a
cancellation (no link), the rewrite after a reassignment, the replan after a details change, and an offer.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.db import utcnow
from core.models import User
from notifications.models import OutboxMessage
from scheduler import booking, offers, responses
from scheduler.casework import update_participant
from scheduler.changes import AppointmentChange
from scheduler.links import resolve
from scheduler.models import Participant
from scheduler.participant_models import Offer, ParticipantLink
from scheduler.reassign import reassign_future
from scheduler.withdrawal import withdraw
from tests import factories as f
from tests.conftest import both_databases
from tests.integration.booking_helpers import POLICY, World, build_world, future_start, request
from tests.integration.sms_helpers import send_once
from tests.support.days import working_days_later

TOKEN = re.compile(r"https://pendel\.test/a/([A-Za-z0-9_-]{22})")  # the test settings' PUBLIC_BASE_URL
GRACE = timedelta(hours=24)


def _rows(runtime: Any, **where: Any) -> list[OutboxMessage]:
    with runtime.db.session() as s:
        query = select(OutboxMessage).where(OutboxMessage.recipient_kind == "participant").order_by(OutboxMessage.id)
        rows = [r for r in s.scalars(query) if all(getattr(r, k) == v for k, v in where.items())]
        s.expunge_all()
        return rows


def _tokens(row: OutboxMessage) -> set[str]:
    return set(TOKEN.findall(row.body or "")) | set(TOKEN.findall(row.html_body or ""))


def _opens_for(runtime: Any, token: str) -> tuple[int, int | None, int | None] | None:
    with runtime.db.session() as s:
        link = resolve(s, token, utcnow(), GRACE)
        if link is None:
            return None
        return (link.participant.id, link.appointment.id if link.appointment else None,
                link.offer.id if link.offer else None)


def _links_issued(runtime: Any) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(ParticipantLink)) or 0


def _book(runtime: Any, w: World, **kw: Any) -> int:
    with runtime.db.write_session() as s:
        return booking.book(s, request(w, start=kw.pop("start", future_start()), **kw), None, utcnow(),
                            policy=POLICY).id


@both_databases
def test_a_booking_writes_one_working_link_per_participant_in_every_message(runtime):
    w = build_world(runtime.db)
    pid = w.participant_ids[0]
    appointment_id = _book(runtime, w)
    rows = _rows(runtime)
    assert {(r.kind, r.channel) for r in rows} == {(k, c) for k in ("appointment_confirmed", "appointment_reminder")
                                                  for c in ("sms", "email")}
    assert all(len(_tokens(r)) == 1 for r in rows), [r.body for r in rows]
    [token] = set.union(*(_tokens(r) for r in rows))  # confirmation and reminders, SMS and email share it
    assert _opens_for(runtime, token) == (pid, appointment_id, None)
    assert _links_issued(runtime) == 1
    sms = next(r for r in rows if r.channel == "sms" and r.kind == "appointment_confirmed")
    assert sms.segments == 1 and sms.body.endswith(f"Verhinderd? https://pendel.test/a/{token}")


def test_a_joint_meetings_participants_each_get_their_own_link(runtime):
    w = build_world(runtime.db)
    victim, offender = w.participant_ids
    start = future_start()
    appointment_id = _book(runtime, w, start=start, kind="meeting", minutes=120, participant_ids=(victim, offender),
                           arrivals={offender: start + timedelta(minutes=15)})
    mine = {pid: set.union(*(_tokens(r) for r in _rows(runtime, participant_id=pid))) for pid in (victim, offender)}
    assert all(len(tokens) == 1 for tokens in mine.values())
    assert mine[victim] != mine[offender]
    for pid, (token,) in mine.items():
        assert _opens_for(runtime, token) == (pid, appointment_id, None)


def test_a_reschedule_carries_a_working_link_and_a_cancellation_none(runtime):
    w = build_world(runtime.db)
    pid = w.participant_ids[0]
    start = future_start()
    appointment_id = _book(runtime, w, start=start)
    [confirmation] = _rows(runtime, kind="appointment_confirmed", channel="sms")
    assert send_once(runtime, confirmation.id) == "sent"
    later = working_days_later(start, 1)
    with runtime.db.write_session() as s:
        booking.reschedule(s, appointment_id, AppointmentChange(later, later + timedelta(hours=1)), None, utcnow(),
                           policy=POLICY)
    moved = _rows(runtime, appointment_version=2)
    assert {r.kind for r in moved} == {"appointment_rescheduled", "appointment_reminder"}
    [token] = set.union(*(_tokens(r) for r in moved))
    assert token not in _tokens(confirmation)  # a new link for the new time; the first still opens the same page
    assert _opens_for(runtime, token) == (pid, appointment_id, None)
    assert _opens_for(runtime, _tokens(confirmation).pop()) == (pid, appointment_id, None)

    with runtime.db.write_session() as s:
        booking.cancel(s, appointment_id, None, utcnow())
    cancelled = _rows(runtime, kind="appointment_cancelled")
    assert cancelled and all("/a/" not in (r.body + (r.html_body or "")) for r in cancelled)
    assert _opens_for(runtime, token) is None


def test_no_link_is_made_for_whom_nothing_is_written(runtime):
    w = build_world(runtime.db)
    victim, offender = w.participant_ids
    with runtime.db.write_session() as s:
        quiet = s.get(Participant, offender)
        quiet.sms_allowed = quiet.email_allowed = False
    start = future_start()
    _book(runtime, w, start=start, kind="meeting", minutes=120, participant_ids=(victim, offender),
          arrivals={offender: start + timedelta(minutes=15)})
    with runtime.db.session() as s:
        assert list(s.scalars(select(ParticipantLink.participant_id))) == [victim]


def test_a_reassignment_and_a_details_change_rewrite_with_working_links(runtime):
    w = build_world(runtime.db)
    pid = w.participant_ids[0]
    appointment_id = _book(runtime, w)
    with runtime.db.write_session() as s:
        reassign_future(s, w.mediator_ids[0], None, utcnow(), policy=POLICY)
    rewritten = [r for r in _rows(runtime, appointment_version=2) if r.status == "pending"]
    assert {r.kind for r in rewritten} == {"appointment_confirmed", "appointment_reminder"}
    tokens = set.union(*(_tokens(r) for r in rewritten))
    assert len(tokens) == 1 and _opens_for(runtime, tokens.pop()) == (pid, appointment_id, None)

    with runtime.db.write_session() as s:
        admin, _ = f.staff(s, "admin")
        update_participant(s, admin, pid, {"phone": "+31687654321"})
    again = [r for r in _rows(runtime) if r.status == "pending"]
    assert again and {r.to_address for r in again if r.channel == "sms"} == {"+31687654321"}
    tokens = set.union(*(_tokens(r) for r in again))
    assert len(tokens) == 1 and _opens_for(runtime, tokens.pop()) == (pid, appointment_id, None)


def _offer(runtime: Any, w: World, pid: int, after: timedelta = timedelta(0)) -> int:
    start = future_start() + after
    with runtime.db.write_session() as s:
        user, _ = f.staff(s, "coordinator")
        wanted = [request(w, start + timedelta(hours=2 * i), participant_ids=(pid,)) for i in range(3)]
        return offers.make_offer(s, user, pid, wanted, utcnow(), policy=POLICY, hours=48).id


@both_databases
def test_an_offer_sends_a_working_link_to_choose_until_its_end(runtime):
    w = build_world(runtime.db)
    pid = w.participant_ids[0]
    offer_id = _offer(runtime, w, pid)
    rows = _rows(runtime, kind="slots_offered")
    assert sorted(r.channel for r in rows) == ["email", "sms"]
    with runtime.db.session() as s:
        expires = s.get(Offer, offer_id).expires_at
    local = expires.astimezone(runtime.settings.tz)
    for r in rows:
        assert r.participant_id == pid and r.appointment_id is None and r.deadline == expires
        assert r.idempotency_key == f"offer:{offer_id}:slots_offered:{r.channel}:p{pid}"
    sms = next(r for r in rows if r.channel == "sms")
    assert f"{local.hour}:{local.minute:02d} uur" in sms.body and sms.segments == 1
    [token] = set.union(*(_tokens(r) for r in rows))
    assert _opens_for(runtime, token) == (pid, None, offer_id)
    assert [send_once(runtime, r.id) for r in rows] == ["sent", "sent"]
    assert _links_issued(runtime) == 1  # the holds are no appointments of theirs yet: no other link


def test_an_offer_message_does_not_go_once_the_offer_is_closed_or_the_participant_stopped(runtime):
    w = build_world(runtime.db)
    first, second = w.participant_ids
    offer_id = _offer(runtime, w, first)
    with runtime.db.write_session() as s:
        offers.withdraw(s, s.scalars(select(User)).first(), offer_id, utcnow())
    assert [send_once(runtime, r.id) for r in _rows(runtime, kind="slots_offered")] == [
        "skipped:offer_closed", "skipped:offer_closed"]

    _offer(runtime, w, second)
    with runtime.db.write_session() as s:
        withdraw(s, second, None, utcnow())
    theirs = _rows(runtime, kind="slots_offered", participant_id=second)
    assert len(theirs) == 2 and {r.status for r in theirs} == {"cancelled"}  # the withdrawal's own cancel
    assert [send_once(runtime, r.id) for r in theirs] == ["cancelled", "cancelled"]  # and the send check's


def _notices(runtime: Any) -> list[OutboxMessage]:
    with runtime.db.session() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "mediator_notice",
                                                          OutboxMessage.idempotency_key.like("answer:%"))
                              .order_by(OutboxMessage.id)))
        s.expunge_all()
        return rows


def test_each_answer_on_the_page_gives_the_appointments_mediators_one_discreet_notice(runtime):
    w = build_world(runtime.db)
    pid = w.participant_ids[0]
    appointment_id = _book(runtime, w, mediator_ids=tuple(w.mediator_ids))

    def answer(response: str) -> bool:
        with runtime.db.write_session() as s:
            return responses.answer(s, appointment_id, pid, response, utcnow(), reason="Ziek", moments=["ma"])

    assert answer("coming") and not answer("coming")  # saying it again: nothing new
    assert answer("cannot_come") and answer("coming") and answer("cannot_come")
    notices = _notices(runtime)
    subjects = [n.subject.split(":")[0] for n in notices if n.mediator_id == w.mediator_ids[0]]
    assert subjects == ["Een deelnemer komt", "Een deelnemer kan niet komen", "Een deelnemer komt toch",
                        "Een deelnemer kan niet komen"]
    assert {n.mediator_id for n in notices} == set(w.mediator_ids) and len(notices) == 8
    assert len({n.idempotency_key for n in notices}) == 8 and all(n.appointment_id == appointment_id for n in notices)
    with runtime.db.session() as s:
        person = s.get(Participant, pid)
        secrets = [person.name, person.phone, person.email, "Ziek"]
    for n in notices:
        assert "afsprakenpagina" in n.body and not [x for x in secrets if x and x in n.body + (n.subject or "")]


def test_no_log_line_carries_a_token_a_number_or_the_text(runtime, caplog):
    w = build_world(runtime.db)
    pid = w.participant_ids[0]
    with caplog.at_level(logging.DEBUG):
        _book(runtime, w)
        _offer(runtime, w, w.participant_ids[1], after=timedelta(hours=2))
        for r in _rows(runtime):
            send_once(runtime, r.id)
    rows = _rows(runtime)
    assert {r.status for r in rows if r.kind in ("appointment_confirmed", "slots_offered")} == {"sent"}
    with runtime.db.session() as s:
        numbers = [p.phone for p in s.scalars(select(Participant)) if p.phone]
    tokens = set.union(*(_tokens(r) for r in rows))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert tokens and pid
    for secret in (*tokens, *numbers, *(r.body[:30] for r in rows)):
        assert secret not in logged
