"""The provider's verdict on a number reaches every text still to go to it (notifications.verdicts).

Twilio 21610 (unsubscribed at the carrier) is the number's opt-out, as a STOP
is; 21211 and other invalid-number codes mark the number not textable until
staff change it. Either way the texts still waiting for it are cancelled and
the mediators hear what it means. Real PostgreSQL, the Twilio stand-in and
the real send job; status callbacks through the signed webhook.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import select, update

import core.jobcontext as jobcontext
from app import create_app
from core.db import utcnow
from notifications.inbound_models import SmsOptOut, number_hash
from notifications.jobs import send_message
from notifications.models import OutboxMessage, SmsUntextableNumber
from notifications.periodic import purge_expired
from tests.integration.sms_helpers import build_world, messages, status
from tests.support.fixtures import smtp_server, twilio_standin  # noqa: F401 - the fixtures
from tests.support.twilio_standin import TwilioStandin

NEW_NUMBER = "+31687654321"


@pytest.fixture
def wired(settings: Any, twilio_standin: TwilioStandin) -> Iterator[Any]:  # noqa: F811
    """The worker's side: SMS through the Twilio stand-in; send jobs in this process use its runtime. The
    webhooks are the plain test app's (`client`), on the same database, as web and worker processes are."""
    app = create_app(replace(settings, **twilio_standin.settings_changes()))
    runtime = app.extensions["pendel"]
    with jobcontext.job_runtime_as(runtime):
        yield app
    runtime.db.dispose()


@pytest.fixture
def runtime(wired: Any) -> Any:
    return wired.extensions["pendel"]


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    """A victim with an SMS and an email reminder waiting, plus a confirmation SMS about to go."""
    world = build_world(runtime)
    with runtime.db.write_session() as s:
        reminder = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "sms")).one()
        confirmation = OutboxMessage(
            idempotency_key="confirm:sms", kind="appointment_confirmed", channel="sms", recipient_kind="participant",
            participant_id=world["victim"], appointment_id=world["appointment"], appointment_version=1,
            to_address=world["phone"], body="Bevestiging", status="queued", attempts=1, created_at=utcnow())
        s.add(confirmation)
        s.flush()
        world |= {"reminder": reminder.id, "confirmation": confirmation.id}
    return world


def _send(runtime: Any, row_id: int) -> str:
    """One attempt of the real send job at a row claimed as the dispatcher claims it."""
    with runtime.db.write_session() as s:
        row = s.get(OutboxMessage, row_id)
        row.status, row.attempts = "queued", row.attempts + 1
        attempt = row.attempts
    return send_message(row_id, attempt)


def _row(runtime: Any, row_id: int) -> OutboxMessage:
    with runtime.db.session() as s:
        return s.get(OutboxMessage, row_id)


def _later_text(runtime: Any, world: dict[str, Any], key: str, to: str | None = None) -> int:
    """Another text to the participant, written after the verdict (e.g. a new booking's)."""
    with runtime.db.write_session() as s:
        row = OutboxMessage(idempotency_key=key, kind="auto_reply", channel="sms", recipient_kind="participant",
                            participant_id=world["victim"], to_address=to or world["phone"], body="Later",
                            status="pending", created_at=utcnow())
        s.add(row)
        s.flush()
        return row.id


def _notices(runtime: Any) -> list[OutboxMessage]:
    return [m for m in messages(runtime, "mediator_notice") if m.idempotency_key.startswith(("dead:", "sms-failed:"))]


def test_21610_is_the_numbers_opt_out_and_cancels_its_waiting_texts(runtime: Any, world: dict[str, Any],
                                                                     twilio_standin: TwilioStandin) -> None:
    twilio_standin.fail_number(world["phone"][-4:], status=400, code=21610)
    assert _send(runtime, world["confirmation"]) == "dead:unsubscribed"
    assert _row(runtime, world["confirmation"]).status == "dead"
    reminder = _row(runtime, world["reminder"])
    assert (reminder.status, reminder.last_error) == ("cancelled", "cancelled: number unsubscribed at the provider")
    assert {m.status for m in messages(runtime, "appointment_reminder") if m.channel == "email"} == {"pending"}
    with runtime.db.session() as s:
        assert s.scalars(select(SmsOptOut.number_hash)).all() == [
            number_hash(runtime.settings.secret_key, world["phone"])]
        assert s.scalars(select(SmsUntextableNumber)).all() == []  # nothing wrong with the number itself
    # The mediator hears that the person unsubscribed, not "check the number".
    [notice] = _notices(runtime)
    assert notice.subject.startswith("Sms afgemeld door een deelnemer")
    assert "START" in notice.body and "Controleer" not in notice.body and world["phone"] not in notice.body
    # A text written later to that number does not go (the opt-out holds, as after a STOP).
    later = _later_text(runtime, world, "later:1")
    assert _send(runtime, later) == "skipped:number_opted_out"
    assert len(twilio_standin.requests) == 1


@pytest.mark.parametrize("code", [21211, 21614])
def test_an_invalid_number_is_not_textable_until_staff_change_it(
        client: Any, runtime: Any, world: dict[str, Any], twilio_standin: TwilioStandin, code: int) -> None:
    from tests import factories

    twilio_standin.fail_number(world["phone"][-4:], status=400, code=code)
    assert _send(runtime, world["confirmation"]) == "dead:number_invalid"
    reminder = _row(runtime, world["reminder"])
    assert (reminder.status, reminder.last_error) == ("cancelled", "cancelled: number not textable")
    with runtime.db.session() as s:
        [mark] = s.scalars(select(SmsUntextableNumber)).all()
        assert s.scalars(select(SmsOptOut)).all() == []  # not an opt-out: nobody asked to stop
    assert (mark.number_hash, mark.participant_id, mark.error_code) == (
        number_hash(runtime.settings.secret_key, world["phone"]), world["victim"], str(code))
    [notice] = _notices(runtime)
    assert notice.subject.startswith("Sms niet mogelijk: controleer het telefoonnummer")
    assert "Controleer het nummer" in notice.body and world["phone"] not in notice.body
    assert _send(runtime, _later_text(runtime, world, "later:1")) == "skipped:number_not_textable"

    # Staff fix the number: the mark goes with the old number, texts go to the new one.
    with runtime.db.write_session() as s:
        headers = factories.staff(s, "coordinator")[1]
    response = client.patch(f"/api/v1/participants/{world['victim']}", json={"phone": NEW_NUMBER}, headers=headers)
    assert response.status_code == 200, response.get_json()
    with runtime.db.session() as s:
        assert s.scalars(select(SmsUntextableNumber)).all() == []
    assert NEW_NUMBER in {m.to_address for m in messages(runtime, "appointment_reminder") if m.status == "pending"}
    assert _send(runtime, _later_text(runtime, world, "later:2", to=NEW_NUMBER)) == "sent"


def test_a_verdict_in_a_status_callback_reaches_the_waiting_texts_too(
        client: Any, runtime: Any, world: dict[str, Any]) -> None:
    assert _send(runtime, world["confirmation"]) == "sent"
    provider_id = _row(runtime, world["confirmation"]).provider_id
    assert _row(runtime, world["confirmation"]).provider_status == "queued"
    assert status(client, provider_id, "undelivered", "30005").status_code == 200  # unknown handset
    assert _row(runtime, world["confirmation"]).status == "undelivered"
    assert _row(runtime, world["reminder"]).status == "cancelled"
    [notice] = _notices(runtime)
    assert notice.subject.startswith("Sms niet mogelijk")
    # A failure that says nothing about the number (30003: the phone is off) leaves the others waiting.
    with runtime.db.write_session() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == world["reminder"]).values(status="pending"))
        s.execute(update(OutboxMessage).where(OutboxMessage.id == world["confirmation"])
                  .values(status="sent", provider_status="queued"))
        s.query(SmsUntextableNumber).delete()
    status(client, provider_id, "failed", "30003")
    assert _row(runtime, world["reminder"]).status == "pending"


def test_a_21610_callback_is_an_opt_out(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    assert _send(runtime, world["confirmation"]) == "sent"
    status(client, _row(runtime, world["confirmation"]).provider_id, "failed", "21610")
    assert _row(runtime, world["reminder"]).status == "cancelled"
    with runtime.db.session() as s:
        assert len(s.scalars(select(SmsOptOut)).all()) == 1
    assert _notices(runtime)[0].subject.startswith("Sms afgemeld")


def test_a_not_textable_mark_is_kept_no_longer_than_message_content(runtime: Any, world: dict[str, Any],
                                                                    twilio_standin: TwilioStandin) -> None:
    twilio_standin.fail_number(world["phone"][-4:], status=400, code=21211)
    _send(runtime, world["confirmation"])
    days = runtime.settings.retention_days
    with runtime.db.write_session() as s:
        purge_expired(s, utcnow() + timedelta(days=days - 1), days)
    with runtime.db.write_session() as s:
        assert len(s.scalars(select(SmsUntextableNumber)).all()) == 1
        purge_expired(s, utcnow() + timedelta(days=days + 1), days)
    with runtime.db.session() as s:
        assert s.scalars(select(SmsUntextableNumber)).all() == []
