"""Inbound SMS through the real app: signatures, replays, STOP/START, replies to reminders, unknown text.

Every request is signed as Twilio signs it; the database is read back to
show what changed, and that a refused or repeated request changed nothing.
"""
from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from core.db import utcnow
from notifications.inbound_models import InboundMessage
from scheduler.booking import cancel
from scheduler.models import Attendance, Participant
from tests import factories
from tests.conftest import both_databases, with_settings
from tests.integration.sms_helpers import BASE, build_world, messages, post, sid, snapshot, status, text_in

REVEALING = ("bemiddel", "mediat", "herstel", "slachtoffer", "dader", "dossier", "hb-")


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    return build_world(runtime)


def test_an_unsigned_or_wrongly_signed_request_is_refused_and_changes_nothing(client: Any, runtime: Any,
                                                                              world: dict[str, Any]) -> None:
    before = snapshot(runtime)
    for kw in ({"signed": False}, {"token": "not-the-token"}):
        response = text_in(client, world["phone"], "STOPPEN", **kw)
        assert response.status_code == 403
        assert response.mimetype == "text/plain" and response.get_data(as_text=True) == "Forbidden"
    assert status(client, "SMunknown", "delivered").status_code == 200  # signed: accepted
    assert post(client, "/telephony/sms/status", {"MessageSid": "x", "MessageStatus": "failed"},
                signed=False).status_code == 403
    assert snapshot(runtime) == before


@pytest.mark.parametrize("signed_for", [
    f"{BASE}/telephony/sms",                 # without the query string the request carried
    "http://pendel.test/telephony/sms?via=sms",   # http instead of https
    "http://localhost/telephony/sms?via=sms",     # the URL the app saw, not the public one
])
def test_a_signature_for_another_url_is_refused(client: Any, runtime: Any, world: dict[str, Any],
                                                signed_for: str) -> None:
    before = snapshot(runtime)
    params = {"MessageSid": sid(), "From": world["phone"], "Body": "STOP"}
    assert post(client, "/telephony/sms?via=sms", params, signed_for=signed_for).status_code == 403
    assert snapshot(runtime) == before
    response = post(client, "/telephony/sms?via=sms", params, signed_for=f"{BASE}/telephony/sms?via=sms")
    assert response.status_code == 200
    assert snapshot(runtime) != before


def test_the_development_setting_accepts_unsigned_requests(settings: Any, world: dict[str, Any]) -> None:
    from app import create_app

    app = create_app(with_settings(settings, webhook_signature_check=False, twilio_auth_token=None))
    try:
        response = text_in(app.test_client(), world["phone"], "STOPPEN", signed=False)
        assert response.status_code == 200
        with app.extensions["pendel"].db.session() as s:
            assert s.get(Participant, world["victim"]).sms_allowed is False
    finally:
        app.extensions["pendel"].db.dispose()


@both_databases
@pytest.mark.parametrize("body", ["STOP", "stop", "  Stoppen \n", "AFMELDEN", "afmelden.", "StOpPeN"])
def test_stop_turns_sms_off_for_the_number_and_cancels_pending_sms_only(client: Any, runtime: Any,
                                                                        world: dict[str, Any], body: str) -> None:
    response = text_in(client, world["phone"], body)
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and "<Message>" not in response.get_data(as_text=True)
    with runtime.db.session() as s:
        assert s.get(Participant, world["victim"]).sms_allowed is False
        assert s.get(Participant, world["other"]).sms_allowed is False      # same number, other case
        assert s.get(Participant, world["offender"]).sms_allowed is True     # another number
    reminders = {m.channel: m.status for m in messages(runtime, "appointment_reminder")}
    assert reminders == {"sms": "cancelled", "email": "pending"}
    notices = messages(runtime, "mediator_notice")
    assert sorted(m.mediator_id for m in notices) == sorted([world["m1"], world["m2"]])
    assert all(m.channel == "email" and m.participant_id is None for m in notices)
    replies = messages(runtime, "auto_reply")
    if body.strip().lower() == "stop":
        assert replies == []  # Twilio confirms its own keyword and refuses anything we send after it
    else:
        assert [(r.recipient_kind, r.to_address, r.language) for r in replies] == [("caller", world["phone"], "nl")]
        assert replies[0].body == ("U ontvangt geen sms meer van ons. Wilt u toch weer sms ontvangen? "
                                   "Stuur dan START.")


def test_a_replayed_inbound_sms_changes_nothing_the_second_time(client: Any, runtime: Any,
                                                                world: dict[str, Any]) -> None:
    message_sid = sid()
    assert text_in(client, world["phone"], "Stoppen", message_sid).status_code == 200
    after_first = snapshot(runtime)
    assert len(messages(runtime, "auto_reply")) == 1 and len(messages(runtime, "mediator_notice")) == 2
    with runtime.db.write_session() as s:  # SMS back on by other means: a replayed STOP must not undo it
        s.get(Participant, world["victim"]).sms_allowed = True
    response = text_in(client, world["phone"], "Stoppen", message_sid)
    assert response.status_code == 200 and "<Message>" not in response.get_data(as_text=True)
    with runtime.db.session() as s:
        assert s.get(Participant, world["victim"]).sms_allowed is True
    assert {k: v for k, v in snapshot(runtime).items() if k != "sms_allowed"} == \
        {k: v for k, v in after_first.items() if k != "sms_allowed"}


def test_start_turns_sms_back_on_and_confirms(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    text_in(client, world["phone"], "stoppen")
    assert text_in(client, world["phone"], " Start ").status_code == 200
    with runtime.db.session() as s:
        assert s.get(Participant, world["victim"]).sms_allowed is True
        assert s.get(Participant, world["other"]).sms_allowed is True
        row = s.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert (row.kind, row.handled) == ("start", True)
    assert messages(runtime, "auto_reply")[-1].body == ("U ontvangt onze sms-berichten weer. "
                                                        "Stuur STOP als u ze niet meer wilt ontvangen.")


@both_databases
def test_two_records_cannot_come_and_tells_the_mediator_once(client: Any, runtime: Any,
                                                             world: dict[str, Any]) -> None:
    assert text_in(client, world["phone"], "2").status_code == 200
    assert text_in(client, world["phone"], " nee ").status_code == 200   # said again: nothing new
    with runtime.db.session() as s:
        attendance = s.get(Attendance, (world["appointment"], world["victim"]))
        assert attendance.response == "cannot_come" and attendance.responded_at is not None
    notices = messages(runtime, "mediator_notice")
    assert [(n.mediator_id, n.recipient_kind, n.to_address is not None) for n in notices] == \
        [(world["m1"], "mediator", True)]
    notice = notices[0]
    assert notice.subject.startswith("Een deelnemer kan niet komen")
    assert world["reference"] not in notice.subject and not any(n in notice.subject for n in world["names"])
    assert world["reference"] in notice.body and not any(n in notice.body for n in world["names"])
    thanks = messages(runtime, "auto_reply")
    assert [(t.recipient_kind, t.participant_id, t.body) for t in thanks] == [
        ("participant", world["victim"], "Dank u wel dat u het laat weten. We nemen contact met u op.")]


def test_one_records_coming_tells_the_mediator_and_a_change_of_mind_is_reported(
        client: Any, runtime: Any, world: dict[str, Any]) -> None:
    text_in(client, world["phone"], "1")
    with runtime.db.session() as s:
        assert s.get(Attendance, (world["appointment"], world["victim"])).response == "coming"
    notices = messages(runtime, "mediator_notice")
    assert [(n.mediator_id, n.subject.split(":")[0]) for n in notices] == [(world["m1"], "Een deelnemer komt")]
    assert "geantwoord te komen" in notices[0].body and world["reference"] in notices[0].body
    assert not any(n in notices[0].subject + notices[0].body for n in world["names"])
    text_in(client, world["phone"], "ja")   # said again: nothing new
    text_in(client, world["phone"], "2")
    text_in(client, world["phone"], "JA")
    assert [n.subject.split(":")[0] for n in messages(runtime, "mediator_notice")] == [
        "Een deelnemer komt", "Een deelnemer kan niet komen", "Een deelnemer komt toch"]


def test_a_reply_without_an_upcoming_appointment_is_unknown_text(client: Any, runtime: Any,
                                                                 world: dict[str, Any]) -> None:
    text_in(client, world["offender_phone"], "2")  # the offender has no appointment
    with runtime.db.session() as s:
        row = s.scalars(select(InboundMessage)).one()
        assert (row.kind, row.handled) == ("unknown", True)
    assert [r.participant_id for r in messages(runtime, "auto_reply")] == [world["offender"]]


@both_databases
def test_unknown_text_gets_one_automatic_answer_a_day(client: Any, runtime: Any, world: dict[str, Any],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for body in ("Hallo, ik heb een vraag over donderdag", "Hallo?", "Is daar iemand"):
        assert text_in(client, world["offender_phone"], body).status_code == 200
    replies = messages(runtime, "auto_reply")
    assert len(replies) == 1
    assert (replies[0].recipient_kind, replies[0].participant_id, replies[0].language) == \
        ("participant", world["offender"], "nl")
    assert replies[0].body == "Dit nummer leest geen berichten. Vragen? Bel ons op werkdagen op 030 123 4567."
    # The mediator reads what their participant wrote, each time, in a discreet email.
    notices = messages(runtime, "mediator_notice")
    assert len(notices) == 3 and "Hallo, ik heb een vraag over donderdag" in notices[0].body
    assert world["offender_phone"] not in caplog.text and "donderdag" not in caplog.text


def test_an_unknown_sender_gets_dutch_and_english_once(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    for _ in range(3):
        assert text_in(client, "+31687654321", "wie is dit?").status_code == 200
    replies = messages(runtime, "auto_reply")
    assert [(r.recipient_kind, r.participant_id, r.to_address, r.segments) for r in replies] == [
        ("caller", None, "+31687654321", 1)]
    assert replies[0].body == ("Dit nummer leest geen berichten. Vragen? Bel ons op werkdagen op 030 123 4567.\n"
                               "This number does not read texts. Please call us on working days on 030 123 4567.")
    assert messages(runtime, "mediator_notice") == []


def test_no_text_to_a_sender_reveals_the_case(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    for body in ("Stoppen", "start", "2", "1", "hoi"):
        text_in(client, world["phone"], body)
    text_in(client, "+31687654321", "hoi")
    replies = messages(runtime, "auto_reply")
    assert len(replies) == 6
    for reply in replies:
        lowered = reply.body.lower()
        assert not [w for w in REVEALING if w in lowered], reply.body
        assert not any(name.lower() in lowered for name in world["names"])


def test_a_reply_shows_on_the_appointment_and_the_mediators_notice_is_linked_to_it(
        client: Any, runtime: Any, world: dict[str, Any]) -> None:
    """Staff see "2 = I can't come" on the appointment in the API, and the notice with its messages; the
    notice reports what happened, so cancelling the appointment (which withdraws its messages) leaves it."""
    with runtime.db.write_session() as s:
        headers = factories.staff(s, "coordinator")[1]
    text_in(client, world["phone"], "2")
    appointment = client.get(f"/api/v1/appointments/{world['appointment']}", headers=headers).get_json()
    with runtime.db.session() as s:
        responded_at = s.get(Attendance, (world["appointment"], world["victim"])).responded_at
    assert appointment["replies"] == {str(world["victim"]): {
        "response": "cannot_come", "responded_at": responded_at.isoformat().replace("+00:00", "Z")}}
    listed = client.get(f"/api/v1/messages?appointment_id={world['appointment']}", headers=headers).get_json()
    assert [(m["kind"], m["recipient_kind"], m["mediator_id"]) for m in listed["messages"]
            if m["recipient_kind"] == "mediator"] == [("mediator_notice", "mediator", world["m1"])]
    with runtime.db.write_session() as s:
        cancel(s, world["appointment"], None, utcnow())
    (notice,) = messages(runtime, "mediator_notice")[:1]
    assert (notice.appointment_id, notice.appointment_version, notice.status) == (world["appointment"], None,
                                                                                  "pending")
    assert {m.status for m in messages(runtime, "appointment_reminder")} == {"cancelled"}
