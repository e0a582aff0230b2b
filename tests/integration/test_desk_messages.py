"""The desk's Messages pages: what did not arrive (reason in words, fix, send again) and each appointment's history.

Real PostgreSQL, the Twilio stand-in and the real send job's attempt; pages
through the Flask test client, signed in as staff (forms carry the page's
CSRF token: tests/support/forms.py).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

import core.jobcontext as jobcontext
from app import create_app
from core.db import utcnow
from core.models import AuditEntry, User
from notifications.models import OutboxMessage, SmsUntextableNumber
from scheduler.models import Appointment, Attendance, Participant
from tests import factories
from tests.integration.sms_helpers import send_once
from tests.support.days import working_day_at
from tests.support.fixtures import twilio_standin  # noqa: F401 - the fixture
from tests.support.twilio_standin import TwilioStandin

PASSWORD = "correct horse battery"
NEW_NUMBER = "+31687654321"
LANDLINE = "+31301234567"


@pytest.fixture
def app(settings: Any, twilio_standin: TwilioStandin) -> Iterator[Any]:  # noqa: F811
    """The app with SMS through the Twilio stand-in; send jobs run in this process with its runtime."""
    flask_app = create_app(replace(settings, **twilio_standin.settings_changes()))
    runtime = flask_app.extensions["pendel"]
    with jobcontext.job_runtime_as(runtime):
        yield flask_app
    runtime.db.dispose()


def sign_in(client: Any, user: User) -> None:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (302, 303), response.get_data(as_text=True)


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    """Two mediators with a case each; a confirmed appointment of the first case ahead, with its confirmation
    text queued; staff: a coordinator (English pages) and both mediators' accounts."""
    start = working_day_at(10)
    with runtime.db.write_session() as s:
        m1, m2 = factories.mediator(s), factories.mediator(s)
        case = factories.case(s, [m1])
        other_case = factories.case(s, [m2])
        victim = case.participants[0]
        appointment = Appointment(case_id=case.id, kind="intake", mode="phone", start=start,
                                  end=start + timedelta(hours=1), status="confirmed", mediators=[m1])
        appointment.attendances = [Attendance(participant_id=victim.id, arrival=start)]
        other = Appointment(case_id=other_case.id, kind="intake", mode="phone", start=start,
                            end=start + timedelta(hours=1), status="confirmed", mediators=[m2])
        s.add_all([appointment, other])
        s.flush()
        confirmation = OutboxMessage(
            idempotency_key=f"appt:{appointment.id}:v1:appointment_confirmed:sms:p{victim.id}",
            kind="appointment_confirmed", channel="sms", recipient_kind="participant", participant_id=victim.id,
            appointment_id=appointment.id, appointment_version=1, to_address=victim.phone, language="nl",
            body="Uw afspraak is bevestigd.", status="pending", created_at=utcnow())
        s.add(confirmation)
        coordinator = factories.staff(s, "coordinator")[0]
        coordinator.language = "en"
        first = factories.staff(s, "mediator", m1)[0]
        second = factories.staff(s, "mediator", m2)[0]
        first.language = second.language = "en"
        s.flush()
        return {"appointment": appointment.id, "other_appointment": other.id, "victim": victim.id,
                "phone": victim.phone, "email": victim.email, "confirmation": confirmation.id,
                "coordinator": coordinator, "mediator": first, "other_mediator": second,
                "name": victim.name, "reference": case.reference}


def _row(runtime: Any, row_id: int) -> OutboxMessage:
    with runtime.db.session() as s:
        row = s.get(OutboxMessage, row_id)
        assert row is not None
        return row


def _rows(runtime: Any) -> list[OutboxMessage]:
    with runtime.db.session() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _participant(runtime: Any, participant_id: int) -> Participant:
    with runtime.db.session() as s:
        found = s.get(Participant, participant_id)
        assert found is not None
        return found


def _dead(runtime: Any, row_id: int, error: str, channel: str = "sms") -> None:
    with runtime.db.write_session() as s:
        row = s.get(OutboxMessage, row_id)
        row.status, row.last_error, row.channel, row.attempts, row.finished_at = "dead", error, channel, 1, utcnow()


def test_a_number_the_provider_refused_shows_in_words_and_is_fixed_and_sent_again(
        client: Any, runtime: Any, world: dict[str, Any], twilio_standin: TwilioStandin) -> None:  # noqa: F811
    twilio_standin.fail_number(world["phone"][-4:], status=400, code=21211)
    assert send_once(runtime, world["confirmation"]) == "dead:number_invalid"
    sign_in(client, world["coordinator"])

    page = client.get("/messages/dead")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="message-{world["confirmation"]}"' in html
    assert "The phone number does not exist or is not valid." in html
    assert world["name"] in html and "confirmation" in html and "text message" in html
    assert f'/appointments/{world["appointment"]}' in html  # its page (or, until that exists, its messages)
    assert "21211" not in html  # words, not codes

    # Fix the number: through the participant service, which lifts the number's not-textable mark.
    prefix = f"m{world['confirmation']}"
    fixed = client.post(f"/messages/{world['confirmation']}/fix", data={f"{prefix}-phone": "06 8765 4321"})
    assert fixed.status_code == 303
    assert _participant(runtime, world["victim"]).phone == NEW_NUMBER
    with runtime.db.session() as s:
        assert s.scalars(select(SmsUntextableNumber)).all() == []
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.action == "participant.updated")) is not None
    assert _row(runtime, world["confirmation"]).status == "dead"  # fixing alone sends nothing

    again = client.post(f"/messages/{world['confirmation']}/again")
    assert again.status_code == 303
    rows = _rows(runtime)
    new = rows[-1]
    assert (new.status, new.to_address, new.kind, new.body) == ("pending", NEW_NUMBER, "appointment_confirmed",
                                                                "Uw afspraak is bevestigd.")
    assert new.idempotency_key.endswith(f"/again{world['confirmation']}")
    assert "on its way again" in client.get("/messages/dead").get_data(as_text=True)
    assert f'id="message-{world["confirmation"]}"' not in client.get("/messages/dead").get_data(as_text=True)
    assert send_once(runtime, new.id) == "sent"
    assert twilio_standin.messages[-1].form["To"] == NEW_NUMBER

    # A second click writes nothing more.
    client.post(f"/messages/{world['confirmation']}/again")
    assert len(_rows(runtime)) == len(rows)
    assert "already sent again" in client.get("/messages/dead").get_data(as_text=True)


@pytest.mark.parametrize("error, channel, words", [
    ("permanent: SMTP 550 5.1.1 at RCPT", "email", "The email address does not exist"),
    ("permanent: SMTP 554 5.7.1 at DATA", "email", "refused the message"),
    ("permanent: Twilio HTTP 400, error 21610", "sms", "unsubscribed from our texts (STOP)"),
    ("permanent: Twilio HTTP 400, error 21614", "sms", "is not a mobile number"),
    ("transient: Twilio HTTP 503 (after 8 attempts)", "sms", "Every attempt failed"),
    ("no outcome from the last attempt (job lost)", "sms", "Every attempt failed"),
    ("no sms channel configured", "sms", "Another error."),
])
def test_each_reason_in_words(client: Any, runtime: Any, world: dict[str, Any], error: str, channel: str,
                              words: str) -> None:
    _dead(runtime, world["confirmation"], error, channel)
    sign_in(client, world["coordinator"])
    html = client.get("/messages/dead").get_data(as_text=True)
    assert words in html
    field = "email" if channel == "email" else "phone"
    assert f'name="m{world["confirmation"]}-{field}"' in html  # the fix form asks for what the channel needs


def test_the_page_is_dutch_by_default(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    _dead(runtime, world["confirmation"], "permanent: Twilio HTTP 400, error 21211")
    with runtime.db.write_session() as s:
        s.get(User, world["coordinator"].id).language = "nl"
    sign_in(client, world["coordinator"])
    html = client.get("/messages/dead").get_data(as_text=True)
    assert "Berichten die niet aankwamen" in html and "Opnieuw versturen" in html
    assert "The phone number" not in html


@pytest.mark.parametrize("typed, message", [
    ("12ab", "This is not a phone number."),
    (LANDLINE, "cannot receive text messages"),
    ("", "Fill this in."),
])
def test_a_wrong_number_is_refused_next_to_the_field_and_changes_nothing(
        client: Any, runtime: Any, world: dict[str, Any], typed: str, message: str) -> None:
    _dead(runtime, world["confirmation"], "permanent: Twilio HTTP 400, error 21211")
    sign_in(client, world["coordinator"])
    prefix = f"m{world['confirmation']}"
    response = client.post(f"/messages/{world['confirmation']}/fix", data={f"{prefix}-phone": typed})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{prefix}-phone-error">' in html and message in html
    assert f'value="{typed}"' in html  # what was typed stays, to correct it
    assert _participant(runtime, world["victim"]).phone == world["phone"]


def test_an_email_address_is_fixed_the_same_way(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    _dead(runtime, world["confirmation"], "permanent: SMTP 550 5.1.1 at RCPT", "email")
    sign_in(client, world["coordinator"])
    prefix = f"m{world['confirmation']}"
    bad = client.post(f"/messages/{world['confirmation']}/fix", data={f"{prefix}-email": "not an address"})
    assert bad.status_code == 400 and "This is not an email address." in bad.get_data(as_text=True)
    assert _participant(runtime, world["victim"]).email == world["email"]
    good = client.post(f"/messages/{world['confirmation']}/fix", data={f"{prefix}-email": "new@example.net"})
    assert good.status_code == 303 and _participant(runtime, world["victim"]).email == "new@example.net"


def test_send_again_refuses_what_the_send_check_would_refuse(client: Any, runtime: Any,
                                                             world: dict[str, Any]) -> None:
    _dead(runtime, world["confirmation"], "permanent: Twilio HTTP 400, error 21211")
    with runtime.db.write_session() as s:  # the appointment moved on since: this confirmation is stale
        s.get(Appointment, world["appointment"]).version = 2
    sign_in(client, world["coordinator"])
    before = len(_rows(runtime))
    response = client.post(f"/messages/{world['confirmation']}/again", follow_redirects=True)
    assert "The appointment has changed since" in response.get_data(as_text=True)
    assert len(_rows(runtime)) == before
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "message.sent_again")) == 0


def test_send_again_of_a_message_that_did_not_fail_is_refused(client: Any, runtime: Any,
                                                              world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    response = client.post(f"/messages/{world['confirmation']}/again", follow_redirects=True)
    assert "This message did not fail." in response.get_data(as_text=True)
    assert client.post("/messages/999999/again").status_code == 404


def test_each_messages_history_per_appointment(client: Any, runtime: Any, world: dict[str, Any],
                                               twilio_standin: TwilioStandin) -> None:  # noqa: F811
    assert send_once(runtime, world["confirmation"]) == "sent"
    with runtime.db.write_session() as s:
        s.add(OutboxMessage(idempotency_key="rem:email", kind="appointment_reminder", channel="email",
                            recipient_kind="participant", participant_id=world["victim"],
                            appointment_id=world["appointment"], appointment_version=1, to_address=world["email"],
                            body="x", status="dead", last_error="permanent: SMTP 550 5.1.1 at RCPT", attempts=1,
                            created_at=utcnow(), finished_at=utcnow()))
    sign_in(client, world["mediator"])
    page = client.get(f"/appointments/{world['appointment']}/messages")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('class="card message"') == 2
    assert "confirmation" in html and "reminder" in html and "written" in html and "sent" in html
    assert "The email address does not exist" in html
    assert "Send again" not in html  # a mediator sees the history; the office sends again
    assert world["phone"] not in html and "Uw afspraak" not in html  # no addresses, no text

    sign_in(client, world["coordinator"])
    assert "Send again" in client.get(f"/appointments/{world['appointment']}/messages").get_data(as_text=True)


def test_a_mediator_sees_only_their_own_appointments_messages(client: Any, runtime: Any,
                                                              world: dict[str, Any]) -> None:
    sign_in(client, world["other_mediator"])
    assert client.get(f"/appointments/{world['appointment']}/messages").status_code == 404
    assert client.get(f"/appointments/{world['other_appointment']}/messages").status_code == 200
    assert client.get("/appointments/999999/messages").status_code == 404
    assert client.get("/messages/dead").status_code == 403
    _dead(runtime, world["confirmation"], "permanent: Twilio HTTP 400, error 21211")
    assert client.post(f"/messages/{world['confirmation']}/again").status_code == 403
    assert client.post(f"/messages/{world['confirmation']}/fix",
                       data={f"m{world['confirmation']}-phone": NEW_NUMBER}).status_code == 403
    assert _participant(runtime, world["victim"]).phone == world["phone"]


def test_the_menu_shows_messages_to_the_office_only(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    assert 'href="/messages/dead"' in client.get("/messages/dead").get_data(as_text=True)
    sign_in(client, world["mediator"])
    assert 'href="/messages/dead"' not in client.get(
        f"/appointments/{world['appointment']}/messages").get_data(as_text=True)


def test_signed_out_goes_to_sign_in(client: Any) -> None:
    response = client.get("/messages/dead")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
