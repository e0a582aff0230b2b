"""Registrations: the public page /aanmelden and the office's queue, through the Flask test client.

Stored with the right fields; every wrong field a 400 naming it and nothing stored; the honeypot thanked and
forgotten, a quick post asked to send again; a GET changes nothing; the queue for the office only; opening a
case from a registration (prefilled, the participant created and the registration linked in one
transaction, never twice); closing one without a case. Every write audited without personal data.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.models import AuditEntry
from scheduler.models import Case, Participant
from scheduler.registration_models import Registration
from tests.conftest import both_databases, with_settings
from tests.integration.desk_cases_helpers import error_of, sign_in, world  # noqa: F401
from tests.support.public_forms import started_stamp

# Someone registering their brother, a victim of a crime, who may be called in the morning or texted.
GOOD = {"registrant": "relative", "registrant_name": "Sanne de Wit", "registrant_organisation": "",
        "registrant_phone": "06 87654321", "registrant_email": "", "name": "Joris de Wit", "phone": "06 12345678",
        "email": "joris@example.org", "language": "nl", "role": "victim", "kind": "crime",
        "other_party_known": "yes", "contact_call": "y", "contact_sms": "y", "moment": "morning",
        "note": "Liever niet op maandag.", "website": ""}
PERSONAL = ("Joris", "Sanne", "12345678", "87654321", "joris@example.org", "maandag")


def post(client: Any, app: Any, environ_base: dict[str, str] | None = None, **changes: Any) -> Any:
    data = {**GOOD, "started": started_stamp(app), **changes}
    return client.post("/aanmelden", data={k: v for k, v in data.items() if v is not None},
                       **({"environ_base": environ_base} if environ_base else {}))


def stored(runtime: Any) -> list[Registration]:
    with runtime.db.session() as s:
        return list(s.scalars(select(Registration).order_by(Registration.id)))


def register(runtime: Any, app: Any, **changes: Any) -> int:
    response = post(app.test_client(), app, **changes)
    assert response.status_code == 303, response.get_data(as_text=True)
    return stored(runtime)[-1].id


# --- the public page ------------------------------------------------------------------------------

@both_databases
def test_a_registration_is_stored_with_its_fields(client: Any, app: Any, runtime: Any) -> None:
    page = client.get("/aanmelden").get_data(as_text=True)
    assert 'name="website"' in page and 'name="started"' in page and "Aanmelden voor bemiddeling" in page
    response = post(client, app)
    assert response.status_code == 303 and response.headers["Location"].endswith("/aanmelden/verzonden")
    [row] = stored(runtime)
    assert (row.registrant, row.registrant_name, row.registrant_organisation, row.registrant_phone,
            row.registrant_email) == ("relative", "Sanne de Wit", None, "+31687654321", None)
    assert (row.name, row.phone, row.email, row.language, row.role, row.kind, row.other_party_known) == (
        "Joris de Wit", "+31612345678", "joris@example.org", "nl", "victim", "crime", "yes")
    assert (row.contact_call, row.contact_sms, row.contact_email, row.contact_letter, row.address) == (
        True, True, False, False, None)
    assert (row.moment, row.may_identify, row.note, row.status, row.case_id) == (
        "morning", False, "Liever niet op maandag.", "new", None)
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Wat gebeurt er nu" in sent and "vrijwillig" in sent
    with runtime.db.session() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "registration"))
        assert (entry.action, entry.object_id, entry.actor_id, entry.detail) == (
            "registration.received", row.id, None, "")


def test_registering_oneself_keeps_no_registrant_details(client: Any, app: Any, runtime: Any) -> None:
    post(client, app, registrant="self", language="en", contact_letter="y", address="Straat 1, 3511 AB Utrecht")
    [row] = stored(runtime)
    assert (row.registrant, row.registrant_name, row.registrant_phone, row.language) == ("self", None, None, "en")
    assert row.address == "Straat 1, 3511 AB Utrecht" and row.contact_letter


@pytest.mark.parametrize(("changes", "field"), [
    ({"registrant": "neighbour"}, "registrant"),
    ({"registrant": None}, "registrant"),
    ({"registrant_name": ""}, "registrant_name"),
    ({"registrant_phone": ""}, "registrant_phone"),
    ({"registrant_phone": "12"}, "registrant_phone"),
    ({"registrant_email": "sanne@"}, "registrant_email"),
    ({"name": ""}, "name"),
    ({"name": "Joris\nde Wit"}, "name"),
    ({"name": "J" * 201}, "name"),
    ({"phone": "0612"}, "phone"),
    ({"phone": "", "email": ""}, "phone"),
    ({"email": "joris at example"}, "email"),
    ({"language": "de"}, "language"),
    ({"role": "witness"}, "role"),
    ({"kind": "burglary"}, "kind"),
    ({"kind": None}, "kind"),
    ({"other_party_known": "maybe"}, "other_party_known"),
    ({"contact_call": None, "contact_sms": None}, "contact_call"),
    ({"phone": "030 123 4567"}, "contact_sms"),  # a landline cannot receive texts
    ({"phone": "", "contact_sms": None}, "phone"),  # a call needs a number
    ({"contact_email": "y", "email": ""}, "email"),
    ({"contact_letter": "y", "address": ""}, "address"),
    ({"moment": "evening"}, "moment"),
    ({"note": "x" * 501}, "note"),
])
def test_a_wrong_field_is_named_and_nothing_is_stored(client: Any, app: Any, runtime: Any, changes: dict[str, Any],
                                                      field: str) -> None:
    response = post(client, app, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error_of(page, field), page
    assert f'href="#{field}"' in page  # the summary links to it
    assert stored(runtime) == []


def test_the_honeypot_is_thanked_and_forgotten(client: Any, app: Any, runtime: Any) -> None:
    response = post(client, app, website="https://spam.example")
    assert response.status_code == 303 and response.headers["Location"].endswith("/aanmelden/verzonden")
    assert stored(runtime) == []


@pytest.mark.parametrize("started", ["now", "forged", ""])
def test_too_quick_or_stale_is_asked_to_send_again(client: Any, app: Any, runtime: Any, started: str) -> None:
    stamp = {"now": started_stamp(app, 0), "forged": started_stamp(app)[:-3] + "abc",
             "": ""}[started]
    response = post(client, app, started=stamp)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "opnieuw" in page
    assert 'value="Joris de Wit"' in page  # what was typed is kept
    assert stored(runtime) == []


@pytest.fixture
def settings(settings: Any) -> Any:
    return with_settings(settings, public_form_limit_address="3 per hour")


def test_the_limit_per_address_holds(client: Any, app: Any, runtime: Any) -> None:
    answers = [post(client, app, name=f"Persoon {n}").status_code for n in range(8)]
    assert answers == [303, 303, 303] + [429] * 5
    assert [r.name for r in stored(runtime)] == ["Persoon 0", "Persoon 1", "Persoon 2"]
    refused = post(client, app)
    page = refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0 and "Probeer het later nog eens" in page
    other = app.test_client()  # another address has its own allowance
    assert post(other, app, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 303


def test_a_cross_site_post_is_refused(client: Any, app: Any, runtime: Any) -> None:
    response = client.post("/aanmelden", data={**GOOD, "started": started_stamp(app)},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and stored(runtime) == []


def test_a_get_changes_nothing(client: Any, app: Any, runtime: Any) -> None:
    query = "&".join(f"{k}={v}" for k, v in {**GOOD, "started": started_stamp(app)}.items())
    for path in (f"/aanmelden?{query}", "/aanmelden/verzonden", f"/aanmelden/verzonden?{query}"):
        assert client.get(path).status_code == 200
    assert stored(runtime) == []
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_one_language_at_a_time(client: Any, app: Any) -> None:
    dutch = client.get("/aanmelden").get_data(as_text=True)
    assert "Aanmelden voor bemiddeling" in dutch and "Register for mediation" not in dutch
    client.post("/language", data={"language": "en", "next": "/aanmelden"})
    english = client.get("/aanmelden").get_data(as_text=True)
    assert "Register for mediation" in english and "Aanmelden voor bemiddeling" not in english
    assert 'checked id="language-1" name="language" type="radio" value="en"' in english  # follows the page's


# --- the office's queue ---------------------------------------------------------------------------

def test_the_queue_is_the_office_s(client: Any, app: Any, runtime: Any, world: dict[str, Any]) -> None:
    first = register(runtime, app, name="Eerste Persoon")
    second = register(runtime, app, name="Tweede Persoon", registrant="self")
    assert client.get("/registrations").status_code == 302  # signed out: the sign-in page
    assert client.get(f"/registrations/{first}").status_code == 302
    sign_in(client, world["mediator1"])
    assert client.get("/registrations").status_code == 403
    page = client.get(f"/registrations/{first}")
    assert page.status_code == 403 and "Joris" not in page.get_data(as_text=True)
    assert client.get(f"/cases/new?registration_id={first}").status_code == 403
    assert client.post(f"/registrations/{first}/close", data={"reason": "duplicate"}).status_code == 403
    assert "/registrations" not in client.get("/cases").get_data(as_text=True)  # no menu item either
    client.post("/logout")
    sign_in(client, world["coordinator"])
    listing = client.get("/registrations").get_data(as_text=True)
    assert listing.index("Eerste Persoon") < listing.index("Tweede Persoon")  # the longest waiting first
    assert "Aanmeldingen" in listing and "vandaag binnengekomen" in listing
    detail = client.get(f"/registrations/{second}").get_data(as_text=True)
    assert "Tweede Persoon" in detail and "06 12345678" in detail and "De persoon zelf." in detail
    assert client.get("/registrations/99999").status_code == 404
    assert client.get("/cases/new?registration_id=99999").status_code == 404


@both_databases
def test_opening_a_case_from_a_registration(client: Any, app: Any, runtime: Any, world: dict[str, Any]) -> None:
    registration_id = register(runtime, app)
    sign_in(client, world["coordinator"])
    form = client.get(f"/cases/new?registration_id={registration_id}").get_data(as_text=True)
    assert 'value="Joris de Wit"' in form and 'value="06 12345678"' in form and 'value="joris@example.org"' in form
    assert '<option selected value="crime">' in form and '<option selected value="victim">' in form
    response = client.post(f"/cases/new?registration_id={registration_id}", data={
        "kind": "crime", "region": "", "mediator_1": "", "mediator_2": "", "name": "Joris de Wit", "role": "victim",
        "phone": "06 12345678", "email": "joris@example.org", "address": "", "language": "nl", "sms_allowed": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)
    with runtime.db.session() as s:
        case = s.scalars(select(Case)).one()
        participant = s.scalars(select(Participant)).one()
        row = s.get(Registration, registration_id)
        assert (participant.case_id, participant.name, participant.phone, participant.sms_allowed,
                participant.email_allowed) == (case.id, "Joris de Wit", "+31612345678", True, False)
        assert (row.status, row.case_id, row.handled_by_id) == ("case_opened", case.id, world["coordinator_id"])
        assert row.participant_id == participant.id  # an erasure or a data file of theirs finds it by this
        assert row.handled_at is not None
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.object_type == "registration")
                                 .order_by(AuditEntry.id)))
        assert [(e.action, e.detail) for e in entries] == [
            ("registration.received", ""), ("registration.case_opened", f"case={case.id}")]
        assert not any(word in e.detail for e in s.scalars(select(AuditEntry)) for word in PERSONAL)
    # A second attempt (another tab, a double click) opens no second case.
    again = client.post(f"/cases/new?registration_id={registration_id}", data={
        "kind": "crime", "name": "Joris de Wit", "role": "victim", "phone": "06 12345678", "language": "nl"})
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/registrations/{registration_id}")
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.scalar(select(func.count()).select_from(Participant)) == 1
    detail = client.get(f"/registrations/{registration_id}").get_data(as_text=True)
    assert case.reference in detail and "Een dossier openen" not in detail
    assert "/registrations/" not in client.get("/registrations").get_data(as_text=True)  # no longer waiting
    assert case.reference not in client.get("/registrations?view=handled").get_data(as_text=True)
    assert "Joris de Wit" in client.get("/registrations?view=handled").get_data(as_text=True)


def test_a_refused_case_links_nothing(client: Any, app: Any, runtime: Any, world: dict[str, Any]) -> None:
    registration_id = register(runtime, app)
    sign_in(client, world["coordinator"])
    response = client.post(f"/cases/new?registration_id={registration_id}", data={
        "kind": "crime", "name": "", "role": "victim", "phone": "06 12345678", "language": "nl"})
    assert response.status_code == 400  # the person is required when the case comes from a registration
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.get(Registration, registration_id).status == "new"


def test_closing_without_a_case(client: Any, app: Any, runtime: Any, world: dict[str, Any]) -> None:
    registration_id = register(runtime, app)
    sign_in(client, world["coordinator"])
    refused = client.post(f"/registrations/{registration_id}/close", data={"reason": "bored"})
    assert refused.status_code == 400 and error_of(refused.get_data(as_text=True), "reason")
    response = client.post(f"/registrations/{registration_id}/close", data={"reason": "duplicate"})
    assert response.status_code == 303
    with runtime.db.session() as s:
        row = s.get(Registration, registration_id)
        assert (row.status, row.close_reason, row.case_id, row.handled_by_id) == (
            "closed", "duplicate", None, world["coordinator_id"])
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "registration.closed")).one()
        assert (entry.object_id, entry.detail) == (registration_id, "reason=duplicate")
    again = client.post(f"/registrations/{registration_id}/close", data={"reason": "other"})
    assert again.status_code == 303
    assert "al afgehandeld" in client.get(again.headers["Location"]).get_data(as_text=True)
    # Closed, it can no longer become a case.
    client.post(f"/cases/new?registration_id={registration_id}", data={
        "kind": "crime", "name": "Joris de Wit", "role": "victim", "phone": "06 12345678", "language": "nl"})
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.get(Registration, registration_id).close_reason == "duplicate"


# --- retention ------------------------------------------------------------------------------------

@both_databases
def test_handled_registrations_go_after_retention(app: Any, runtime: Any) -> None:
    from datetime import timedelta

    from core.db import utcnow
    from scheduler.periodic import PERIODIC, PURGE_REGISTRATIONS
    from scheduler.registrations import purge_handled

    ids = [register(runtime, app, name=f"Persoon {n}") for n in range(3)]
    now, days = utcnow(), runtime.settings.retention_days
    with runtime.db.write_session() as s:
        old, recent, waiting = (s.get(Registration, i) for i in ids)
        old.status, old.close_reason, old.handled_at = "closed", "duplicate", now - timedelta(days=days + 1)
        recent.status, recent.close_reason, recent.handled_at = "closed", "other", now - timedelta(days=days - 1)
        waiting.created_at = now - timedelta(days=days * 2)  # never handled: it stays until someone does
    with runtime.db.write_session() as s:
        assert purge_handled(s, now, days) == 1
    assert [r.id for r in stored(runtime)] == ids[1:]
    assert PURGE_REGISTRATIONS in PERIODIC
