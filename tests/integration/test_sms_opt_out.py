"""A number that texts STOP, STOPPEN or AFMELDEN gets no SMS from us until START (or Twilio's YES).

Participants' `sms_allowed` covers their own messages; the per-number opt-out
covers every text to the number: the callback queue's "we tried to reach
you", automatic answers, and messages to participants alike. Inbound texts
go through the real app, signed as Twilio signs them; one attempt of the
send job runs on the row as the dispatcher would hand it over.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from core.db import utcnow
from core.events import publish
from notifications.inbound_models import InboundMessage, SmsOptOut, number_hash, record_opt_out
from notifications.models import OutboxMessage
from scheduler.events import AppointmentConfirmed, CallbackUnreachable
from scheduler.models import Appointment, Attendance, Participant
from tests import factories
from tests.conftest import both_databases
from tests.integration.sms_helpers import build_world, messages, send_once, text_in

STRANGER = "+31687654321"


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    return build_world(runtime)


def callback_text(runtime: Any, number: str, callback_id: int = 4242) -> OutboxMessage:
    with runtime.db.write_session() as s:
        publish(s, CallbackUnreachable(callback_id=callback_id, caller_number=number, language="nl",
                                       texts_allowed=True))
    return messages(runtime, "callback_unreachable")[-1]


def opt_outs(runtime: Any) -> list[str]:
    with runtime.db.session() as s:
        return list(s.scalars(select(SmsOptOut.number_hash)))


@both_databases
@pytest.mark.parametrize("word", ["STOPPEN", "afmelden", "Stop"])
def test_a_stop_holds_back_a_later_callback_text_to_that_number(client: Any, runtime: Any, world: dict[str, Any],
                                                                word: str) -> None:
    text_in(client, world["phone"], word)
    row = callback_text(runtime, world["phone"])
    assert send_once(runtime, row.id) == "skipped:number_opted_out"
    with runtime.db.session() as s:
        assert s.get(OutboxMessage, row.id).status == "skipped"


def test_the_stop_confirmation_itself_goes(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    text_in(client, world["phone"], "STOPPEN")
    (confirmation,) = messages(runtime, "auto_reply")
    assert send_once(runtime, confirmation.id) == "sent"


def test_start_lifts_the_opt_out(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    text_in(client, world["phone"], "AFMELDEN")
    text_in(client, world["phone"], "start")
    assert opt_outs(runtime) == []
    assert send_once(runtime, callback_text(runtime, world["phone"]).id) == "sent"


def test_the_opt_out_is_kept_as_a_keyed_hash_only(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    text_in(client, STRANGER, "stoppen")
    text_in(client, STRANGER, "STOPPEN")  # twice: still one record
    assert opt_outs(runtime) == [number_hash(runtime.settings.secret_key, STRANGER)]
    assert opt_outs(runtime)[0] != hashlib.sha256(STRANGER.encode()).hexdigest()  # keyed, not a bare digest
    # Another number is not affected.
    assert send_once(runtime, callback_text(runtime, world["offender_phone"]).id) == "sent"



def test_an_opt_out_outlives_a_rotation_of_the_secret_key(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    """Recorded under the old SECRET_KEY, the stop holds while that key is in SECRET_KEY_PREVIOUS, and
    the first text we are about to send moves it under the new key (the old hash is not kept)."""
    old = runtime.settings.secret_key
    text_in(client, STRANGER, "STOPPEN")
    rotated = replace(runtime.settings, secret_key="a-new-secret", previous_secret_keys=("unrelated", old))
    forgotten = replace(rotated, previous_secret_keys=())
    assert send_once(SimpleNamespace(db=runtime.db, settings=forgotten),
                     callback_text(runtime, STRANGER).id) == "sent"  # what the setting is for
    assert send_once(SimpleNamespace(db=runtime.db, settings=rotated),
                     callback_text(runtime, STRANGER, callback_id=4243).id) == "skipped:number_opted_out"
    assert opt_outs(runtime) == [number_hash("a-new-secret", STRANGER)]
    assert send_once(SimpleNamespace(db=runtime.db, settings=forgotten),  # the old key may go now
                     callback_text(runtime, STRANGER, callback_id=4244).id) == "skipped:number_opted_out"


def test_a_text_from_the_number_moves_its_opt_out_under_the_new_key(client: Any, runtime: Any,
                                                                   world: dict[str, Any]) -> None:
    from app import create_app

    old = runtime.settings.secret_key
    text_in(client, STRANGER, "AFMELDEN")
    app = create_app(replace(runtime.settings, secret_key="a-new-secret", previous_secret_keys=(old,)))
    try:
        text_in(app.test_client(), STRANGER, "wie is dit?")
        assert opt_outs(runtime) == [number_hash("a-new-secret", STRANGER)]
        assert _reply_templates(runtime) == ["stop_confirmed"]  # still opted out: no automatic answer
        text_in(app.test_client(), STRANGER, "START")
        assert opt_outs(runtime) == []
    finally:
        app.extensions["pendel"].db.dispose()


def test_a_stranger_who_opted_out_gets_no_automatic_answer(client: Any, runtime: Any,
                                                           world: dict[str, Any]) -> None:
    text_in(client, STRANGER, "Stoppen")
    text_in(client, STRANGER, "wie is dit?")
    assert _reply_templates(runtime) == ["stop_confirmed"]


@both_databases
@pytest.mark.parametrize("word", ["YES", "yes", " Yes. "])
def test_yes_after_a_stop_switches_sms_back_on(client: Any, runtime: Any, world: dict[str, Any], word: str) -> None:
    """Twilio re-subscribes a number that texts YES after a STOP: we follow, rather than read "I'm coming"."""
    text_in(client, world["phone"], "STOP")
    text_in(client, world["phone"], word)
    with runtime.db.session() as s:
        assert s.get(Participant, world["victim"]).sms_allowed is True
        assert s.get(Attendance, (world["appointment"], world["victim"])).response is None
        assert s.scalars(select(InboundMessage.kind).order_by(InboundMessage.id)).all() == ["stop", "start"]
    assert opt_outs(runtime) == []
    assert _reply_templates(runtime) == ["start_confirmed"]


def test_yes_without_a_stop_still_means_coming(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    text_in(client, world["phone"], "YES")
    with runtime.db.session() as s:
        assert s.get(Attendance, (world["appointment"], world["victim"])).response == "coming"


@pytest.mark.parametrize("channel, field, new", [("sms", "phone", "+31611112222"),
                                                 ("email", "email", "new@example.org")])
def test_a_message_to_an_address_no_longer_the_participants_is_skipped(runtime: Any, world: dict[str, Any],
                                                                       channel: str, field: str, new: str) -> None:
    """A backstop for any path that changes contact details without re-writing pending messages."""
    noon = datetime.combine(utcnow().astimezone(runtime.settings.tz).date() + timedelta(days=1),
                            datetime.min.time().replace(hour=12), runtime.settings.tz)
    with runtime.db.write_session() as s:
        setattr(s.get(Participant, world["victim"]), field, new)
    reminders = {m.channel: m.id for m in messages(runtime, "appointment_reminder")}
    assert send_once(runtime, reminders.pop(channel), noon) == "skipped:address_changed"
    assert send_once(runtime, reminders.popitem()[1], noon) == "sent"  # the other channel's address is unchanged



def _reply_templates(runtime: Any) -> list[str]:
    """Which automatic answers were queued (the template is the last part of the key)."""
    return [r.idempotency_key.rsplit(":", 1)[1] for r in messages(runtime, "auto_reply")]


def test_start_plans_the_upcoming_reminders_again_on_sms(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    """STOP cancelled the victim's text reminder; START switches texts back on as staff would, so the
    upcoming appointment's reminders are planned again on SMS, to their number."""
    def open_texts() -> list[OutboxMessage]:
        return [m for m in messages(runtime, "appointment_reminder")
                if m.channel == "sms" and m.status in ("pending", "queued")]

    text_in(client, world["phone"], "STOPPEN")
    assert open_texts() == []
    text_in(client, world["phone"], "START")
    again = open_texts()
    assert again and {m.to_address for m in again} == {world["phone"]}
    assert {m.participant_id for m in again} == {world["victim"]}
    assert all(send_once(runtime, m.id, m.not_before) == "sent" for m in again[:1])


# --- consent is not the number's opt-out ------------------------------------------------------

@pytest.fixture
def staff_headers(runtime: Any) -> dict[str, str]:
    with runtime.db.write_session() as s:
        return factories.staff(s, "coordinator")[1]


def _patch(client: Any, headers: dict[str, str], participant_id: int, **changes: object) -> None:
    response = client.patch(f"/api/v1/participants/{participant_id}", json=changes, headers=headers)
    assert response.status_code == 200, response.get_json()


def _sms_allowed(runtime: Any, *ids: int) -> list[bool]:
    with runtime.db.session() as s:
        return [s.get(Participant, pid).sms_allowed for pid in ids]


def _notices(runtime: Any, reason: str) -> list[OutboxMessage]:
    return [m for m in messages(runtime, "mediator_notice") if f":{reason}:" in m.idempotency_key]


def test_start_never_switches_on_a_participant_whom_staff_set_to_no_sms(
        client: Any, runtime: Any, world: dict[str, Any], staff_headers: dict[str, str]) -> None:
    """A shared phone: staff set one participant on it to "no SMS". STOP and START from the phone switch
    texts off and on again for the other participant, whose texts the STOP switched off, and only for them;
    the next booking of the first writes them no text, and their mediator hears that the number asked."""
    _patch(client, staff_headers, world["other"], sms_allowed=False)
    text_in(client, world["phone"], "STOPPEN")
    text_in(client, world["phone"], "START")
    assert _sms_allowed(runtime, world["victim"], world["other"]) == [True, False]
    assert opt_outs(runtime) == []
    (notice,) = _notices(runtime, "start_sms_off")
    assert notice.mediator_id == world["m2"]
    appointment = _confirmed_appointment(runtime, world["other"])
    assert {m.channel for m in messages(runtime, "appointment_confirmed")
            if m.appointment_id == appointment} == {"email"}


@pytest.mark.parametrize("changes", [[{"sms_allowed": True}, {"sms_allowed": False}],
                                     [{"phone": "+31611112222"}]], ids=["sms-on-and-off", "new-number"])
def test_after_staff_decide_a_start_no_longer_switches_texts_on(
        client: Any, runtime: Any, world: dict[str, Any], staff_headers: dict[str, str],
        changes: list[dict[str, object]]) -> None:
    """Texts off because of a STOP come back with START, unless staff have since decided about the
    participant's texts (switched them on and off again) or their number: then it is staff's choice."""
    text_in(client, world["phone"], "STOPPEN")
    for change in changes:
        _patch(client, staff_headers, world["victim"], **change)
    with runtime.db.session() as s:
        phone = s.get(Participant, world["victim"]).phone
    text_in(client, phone, "START")
    assert _sms_allowed(runtime, world["victim"]) == [False]


def test_a_start_from_a_number_that_never_stopped_promises_nothing(client: Any, runtime: Any,
                                                                    world: dict[str, Any]) -> None:
    text_in(client, STRANGER, "START")
    text_in(client, world["phone"], "start")
    assert _reply_templates(runtime) == ["start_not_stopped", "start_not_stopped"]
    body = messages(runtime, "auto_reply")[-1].body or ""
    assert "weer" not in body and "again" not in body
    assert _notices(runtime, "start") == [] and _sms_allowed(runtime, world["victim"]) == [True]


def test_a_start_to_a_phone_whose_participants_have_texts_off_gets_no_answer(
        client: Any, runtime: Any, world: dict[str, Any], staff_headers: dict[str, str]) -> None:
    """Staff switched texts off for everyone on the phone (someone else may read it): START answers
    nothing and switches nothing on; both mediators hear of it."""
    for participant in ("victim", "other"):
        _patch(client, staff_headers, world[participant], sms_allowed=False)
    text_in(client, world["phone"], "START")
    assert _reply_templates(runtime) == []
    assert _sms_allowed(runtime, world["victim"], world["other"]) == [False, False]
    assert sorted(m.mediator_id for m in _notices(runtime, "start_sms_off")) == [world["m1"], world["m2"]]


def _confirmed_appointment(runtime: Any, participant_id: int) -> int:
    """A phone appointment of the participant in four days, confirmed as booking confirms it (its event)."""
    start = (utcnow() + timedelta(days=4)).replace(microsecond=0)
    with runtime.db.write_session() as s:
        participant = s.get(Participant, participant_id)
        appointment = Appointment(case_id=participant.case_id, kind="intake", mode="phone", start=start,
                                  end=start + timedelta(hours=1), status="confirmed",
                                  mediators=list(participant.case.mediators))
        appointment.attendances = [Attendance(participant_id=participant_id, arrival=start)]
        s.add(appointment)
        s.flush()
        publish(s, AppointmentConfirmed(appointment.id, appointment.version, None))
        return appointment.id


def test_start_after_the_provider_reported_the_number_unsubscribed_plans_its_texts_again(
        client: Any, runtime: Any, world: dict[str, Any]) -> None:
    """Twilio's 21610 records the number's opt-out and withdraws its waiting texts, leaving the
    participants' SMS on (notifications.verdicts does this; here it is done as it does it). A START
    lifts the opt-out and their upcoming reminders are planned again on SMS."""
    now = utcnow()
    with runtime.db.write_session() as s:
        record_opt_out(s.connection(), number_hash(runtime.settings.secret_key, world["phone"]), now)
        s.execute(update(OutboxMessage).where(OutboxMessage.to_address == world["phone"],
                                              OutboxMessage.status.in_(("pending", "queued")))
                  .values(status="cancelled", finished_at=now))
    text_in(client, world["phone"], "START")
    assert opt_outs(runtime) == [] and _reply_templates(runtime) == ["start_confirmed"]
    again = [m for m in messages(runtime, "appointment_reminder") if m.channel == "sms" and m.status == "pending"]
    assert again and {(m.participant_id, m.to_address) for m in again} == {(world["victim"], world["phone"])}
    assert _sms_allowed(runtime, world["victim"]) == [True] and _notices(runtime, "start") == []
