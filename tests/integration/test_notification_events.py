"""Booking events write the outbox in the booking's own transaction (invariant 3)."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.db import utcnow
from notifications.models import OutboxMessage
from scheduler import booking
from scheduler.models import Participant
from scheduler.withdrawal import withdraw
from tests.conftest import both_databases
from tests.integration.booking_helpers import build_world, future_start, request
from tests.integration.sms_helpers import send_once
from tests.integration.booking_helpers import POLICY
from tests.support.days import working_days_later
from scheduler.changes import AppointmentChange


def _rows(db):  # type: ignore[no-untyped-def]
    with db.session() as s:
        return s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


@both_databases
def test_confirmation_reminders_and_mediator_notice_are_written_with_the_booking(runtime):
    db = runtime.db
    w = build_world(db)
    start = future_start()
    with db.write_session() as s:
        a = booking.book(s, request(w, start=start), None, utcnow(), policy=POLICY)
    rows = _rows(db)
    participant = [r for r in rows if r.recipient_kind == "participant"]
    assert sorted((r.kind, r.channel) for r in participant) == [
        ("appointment_confirmed", "email"), ("appointment_confirmed", "sms"),
        ("appointment_reminder", "email"), ("appointment_reminder", "email"),
        ("appointment_reminder", "sms"), ("appointment_reminder", "sms")]
    assert {r.appointment_id for r in rows} == {a.id}
    reminders = sorted(r.not_before for r in participant if r.is_reminder and r.channel == "sms")
    assert reminders == [start - timedelta(days=2), start - timedelta(hours=2)]
    mediator = [r for r in rows if r.recipient_kind == "mediator"]
    assert [(r.kind, r.channel, r.mediator_id) for r in mediator] == [("mediator_notice", "email", w.mediator_ids[0])]
    assert all(r.status == "pending" for r in rows)


def test_a_refused_booking_writes_no_message(runtime):
    db = runtime.db
    w = build_world(db)
    start = future_start()
    with db.write_session() as s:
        booking.book(s, request(w, start=start), None, utcnow(), policy=POLICY)
    before = len(_rows(db))
    with pytest.raises(booking.BookingConflict), db.write_session() as s:
        booking.book(s, request(w, start=start, case_id=w.other_case_id,
                                participant_ids=(w.other_participant_ids[0],)), None, utcnow(), policy=POLICY)
    assert len(_rows(db)) == before


def test_reschedule_cancels_pending_messages_and_plans_new_ones(runtime):
    db = runtime.db
    w = build_world(db)
    start = future_start()
    with db.write_session() as s:
        a = booking.book(s, request(w, start=start), None, utcnow(), policy=POLICY)
    _send_confirmation(runtime, "sms")
    later = working_days_later(start, 1)  # the next calendar day may be Christmas or Good Friday
    with db.write_session() as s:
        booking.reschedule(s, a.id, AppointmentChange(later, later + timedelta(hours=1)), None, utcnow(), policy=POLICY)
    rows = _rows(db)
    old = [r for r in rows if r.appointment_version == 1 and r.status != "sent"]
    assert {r.status for r in old} == {"cancelled"}
    new = [r for r in rows if r.appointment_version == 2 and r.recipient_kind == "participant"]
    assert {r.kind for r in new} == {"appointment_rescheduled", "appointment_reminder"}
    assert all("verzet" in r.body for r in new if r.kind == "appointment_rescheduled")


def test_a_move_before_the_confirmation_left_sends_the_confirmation_not_a_change(runtime):
    db = runtime.db
    w = build_world(db)
    start = future_start()
    with db.write_session() as s:
        a = booking.book(s, request(w, start=start), None, utcnow(), policy=POLICY)
    later = working_days_later(start, 1)  # the next calendar day may be Christmas or Good Friday
    with db.write_session() as s:
        booking.reschedule(s, a.id, AppointmentChange(later, later + timedelta(hours=1)), None, utcnow(), policy=POLICY)
    new = [r for r in _rows(db) if r.appointment_version == 2 and r.recipient_kind == "participant"]
    assert {r.kind for r in new} == {"appointment_confirmed", "appointment_reminder"}


def test_a_reshaping_reschedule_sends_each_person_one_message_that_fits_them(runtime):
    """Victim stays (told: one "changed"), offender joins (a confirmation), mediator 1 leaves (their
    invitation is withdrawn), mediator 2 joins; nobody gets a cancellation followed by a new booking."""
    db = runtime.db
    w = build_world(db)
    victim, offender = w.participant_ids
    start = future_start()
    with db.write_session() as s:
        a = booking.book(s, request(w, start=start, participant_ids=(victim,)), None, utcnow(), policy=POLICY)
    _send_confirmation(runtime, "sms")
    later = start + timedelta(hours=2)
    change = AppointmentChange(later, later + timedelta(hours=2), mediator_ids=(w.mediator_ids[1],),
                               participant_ids=(victim, offender), arrivals={offender: later + timedelta(minutes=15)})
    with db.write_session() as s:
        booking.reschedule(s, a.id, change, None, utcnow(), policy=POLICY)
    new = [r for r in _rows(db) if r.appointment_version == 2]
    said = {(r.participant_id or r.mediator_id, r.recipient_kind, r.kind) for r in new if not r.is_reminder}
    assert said == {(victim, "participant", "appointment_rescheduled"),
                    (offender, "participant", "appointment_confirmed"),
                    (w.mediator_ids[0], "mediator", "mediator_notice"),
                    (w.mediator_ids[1], "mediator", "mediator_notice")}
    subjects = {r.mediator_id: r.attachment_ics for r in new if r.recipient_kind == "mediator"}
    assert "METHOD:CANCEL" in subjects[w.mediator_ids[0]] and "METHOD:REQUEST" in subjects[w.mediator_ids[1]]
    assert not [r for r in new if r.kind == "appointment_cancelled"]


def test_a_participant_taken_off_hears_it_is_off_only_if_told(runtime):
    db = runtime.db
    w = build_world(db)
    victim, offender = w.participant_ids
    start = future_start()
    with db.write_session() as s:
        a = booking.book(s, request(w, start=start, kind="meeting", minutes=120, participant_ids=(victim, offender),
                                    arrivals={offender: start + timedelta(minutes=15)}), None, utcnow(), policy=POLICY)
    (row,) = [r for r in _rows(db) if r.kind == "appointment_confirmed" and r.channel == "sms"
              and r.participant_id == victim]
    assert send_once(runtime, row.id) == "sent"
    with db.write_session() as s:
        booking.reschedule(s, a.id, AppointmentChange(start, start + timedelta(hours=2), participant_ids=(offender,),
                                                      arrivals={}), None, utcnow(), policy=POLICY)
    new = [r for r in _rows(db) if r.appointment_version == 2 and r.recipient_kind == "participant"]
    assert {(r.participant_id, r.kind) for r in new if not r.is_reminder} == {
        (victim, "appointment_cancelled"), (offender, "appointment_confirmed")}


def _send_confirmation(runtime, channel):  # type: ignore[no-untyped-def]
    """The participant's confirmation goes on this channel: from now on they know of the appointment."""
    (row,) = [r for r in _rows(runtime.db) if r.kind == "appointment_confirmed" and r.channel == channel]
    assert send_once(runtime, row.id) == "sent"


def test_cancel_tells_participants_who_were_told_and_withdraws_reminders(runtime):
    db = runtime.db
    w = build_world(db)
    with db.write_session() as s:
        a = booking.book(s, request(w, start=future_start()), None, utcnow(), policy=POLICY)
    _send_confirmation(runtime, "sms")
    with db.write_session() as s:
        booking.cancel(s, a.id, None, utcnow())
    rows = _rows(db)
    assert {r.status for r in rows if r.is_reminder} == {"cancelled"}
    # Told by text, they hear it is off by text and by email (whose confirmation is withdrawn).
    told = [r for r in rows if r.kind == "appointment_cancelled"]
    assert sorted(r.channel for r in told) == ["email", "sms"] and {r.status for r in told} == {"pending"}


def test_withdrawal_from_a_joint_meeting_sends_no_participant_anything(runtime):
    db = runtime.db
    w = build_world(db)
    victim, offender = w.participant_ids
    with db.write_session() as s:
        booking.book(s, request(w, start=future_start(), kind="meeting", minutes=120,
                                participant_ids=(victim, offender),
                                arrivals={offender: future_start() + timedelta(minutes=15)}), None, utcnow(), policy=POLICY)
    with db.write_session() as s:
        withdraw(s, victim, None, utcnow())
    rows = _rows(db)
    assert not [r for r in rows if r.kind == "appointment_cancelled"]
    assert {r.status for r in rows if r.recipient_kind == "participant"} == {"cancelled"}
    notices = [r for r in rows if r.recipient_kind == "mediator" and "geannuleerd" in (r.subject or "")]
    assert len(notices) == 1 and "persoonlijk" in notices[0].body


def test_no_participant_message_names_another_participant(runtime):
    db = runtime.db
    w = build_world(db)
    victim, offender = w.participant_ids
    with db.write_session() as s:
        booking.book(s, request(w, start=future_start(), kind="meeting", minutes=120,
                                participant_ids=(victim, offender),
                                arrivals={victim: future_start(), offender: future_start() + timedelta(minutes=20)}), None, utcnow(), policy=POLICY)
    with db.session() as s:
        names = {p.id: p.name for p in s.scalars(select(Participant))}
    rows = [r for r in _rows(db) if r.recipient_kind == "participant"]
    for r in rows:
        others = [name for pid, name in names.items() if pid != r.participant_id]
        assert not [n for n in others if n in (r.body or "") or n in (r.html_body or "")]
    offender_sms = next(r for r in rows if r.participant_id == offender and r.kind == "appointment_confirmed"
                        and r.channel == "sms")
    arrival = (future_start() + timedelta(minutes=20)).astimezone(ZoneInfo("Europe/Amsterdam"))
    assert f"{arrival.hour}:{arrival.minute:02d}" in offender_sms.body  # their own, staggered arrival


def test_participants_without_allowed_channels_get_nothing(runtime):
    db = runtime.db
    w = build_world(db)
    with db.write_session() as s:
        p = s.get(Participant, w.participant_ids[0])
        p.sms_allowed = p.email_allowed = False
    with db.write_session() as s:
        booking.book(s, request(w, start=future_start()), None, utcnow(), policy=POLICY)
    assert [r.recipient_kind for r in _rows(db)] == ["mediator"]


def test_emails_carry_the_recipients_own_invitation(runtime):
    from icalendar import Calendar

    db = runtime.db
    w = build_world(db)
    with db.write_session() as s:
        a = booking.book(s, request(w, start=future_start()), None, utcnow(), policy=POLICY)
    _send_confirmation(runtime, "sms")  # a cancellation goes only to someone who heard of the appointment
    with db.write_session() as s:
        booking.cancel(s, a.id, None, utcnow())
    rows = [r for r in _rows(db) if r.channel == "email" and not r.is_reminder]
    methods = {}
    for r in rows:
        cal = Calendar.from_ical(r.attachment_ics)
        event = cal.walk("VEVENT")[0]
        attendees = event.get("ATTENDEE")
        assert not isinstance(attendees, list), "one recipient per invitation"
        assert str(attendees).lower() == f"mailto:{r.to_address}".lower()
        methods[(r.recipient_kind, r.kind if r.recipient_kind == "participant" else r.subject.split(":")[0])] = (
            str(cal["METHOD"]), int(event["SEQUENCE"]))
        assert "HB-" not in str(event["SUMMARY"]) or r.recipient_kind == "mediator"
    assert methods[("participant", "appointment_confirmed")] == ("REQUEST", 1)
    assert methods[("participant", "appointment_cancelled")] == ("CANCEL", 2)
    assert methods[("mediator", "Afspraak geboekt")] == ("REQUEST", 1)
    assert methods[("mediator", "Afspraak geannuleerd")] == ("CANCEL", 2)
