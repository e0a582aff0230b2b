"""Booking a video appointment: the participant's messages carry the joining link, the mediator's emails follow
their own language (the subscribers load both from the rows: Appointment.video_url, else the mediator's)."""
from __future__ import annotations

from sqlalchemy import select

from core.db import utcnow
from notifications.mediator_notices import Notice, notify
from notifications.models import OutboxMessage
from notifications.subscribers import load_facts
from scheduler import booking
from scheduler.models import Appointment, Mediator, Participant
from tests.integration.booking_helpers import POLICY, build_world, future_start, request

STANDING = "https://meet.jit.si/pendel-anouk"
OWN = "https://video.example.org/room-42"


def test_a_video_booking_sends_the_mediators_standing_link_and_english_to_an_english_mediator(runtime):
    db = runtime.db
    w = build_world(db)
    with db.write_session() as s:
        mediator = s.get(Mediator, w.mediator_ids[0])
        mediator.language, mediator.video_url = "en", STANDING
        s.get(Participant, w.participant_ids[0]).language = "en"
    with db.write_session() as s:
        appointment = booking.book(s, request(w, start=future_start(), mode="video", room_id=None), None, utcnow(),
                                   policy=POLICY)
        appointment_id = appointment.id
    with db.session() as s:
        rows = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    participant = [r for r in rows if r.recipient_kind == "participant"]
    assert participant and all(STANDING in r.body for r in participant)
    sms = next(r for r in participant if r.channel == "sms" and r.kind == "appointment_confirmed")
    assert sms.language == "en" and f"by video: {STANDING}" in sms.body and sms.segments == 1
    [to_mediator] = [r for r in rows if r.recipient_kind == "mediator"]
    assert to_mediator.language == "en" and to_mediator.subject.startswith("Appointment booked")
    assert f"Video link: {STANDING}" in to_mediator.body

    # The appointment's own link wins over the standing one.
    with db.write_session() as s:
        s.get(Appointment, appointment_id).video_url = OWN
        assert load_facts(s, appointment_id).video_url == OWN


def test_a_notice_about_a_participant_reaches_each_mediator_in_their_language(runtime):
    db = runtime.db
    w = build_world(db)
    with db.write_session() as s:
        dutch, english = s.get(Mediator, w.mediator_ids[0]), s.get(Mediator, w.mediator_ids[1])
        english.language = "en"
        notify(s, runtime.settings, [dutch, english],
               Notice("test:1", "cannot_come", "HB-2026-0001", w.participant_ids[0]), utcnow())
    with db.session() as s:
        rows = {r.mediator_id: r for r in s.scalars(select(OutboxMessage))}
    assert rows[w.mediator_ids[1]].language == "en"
    assert rows[w.mediator_ids[1]].subject == "A participant cannot come"
    assert rows[w.mediator_ids[0]].language == "nl" and "kan niet komen" in rows[w.mediator_ids[0]].subject
