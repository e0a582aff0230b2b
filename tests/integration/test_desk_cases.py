"""The case pages (scheduler.desk_cases) through the Flask test client, on PostgreSQL.

The list and its filters (overdue as scheduler.overdue says, the same in SQL
as in Python), pages of 50, a mediator's narrower sight (another's case is a
404), opening a case straight from a callback request, participants added and
changed with refusals next to their field and nothing saved, one or two
mediators, the region, and a status change that the case's history shows.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import utcnow
from core.models import AuditEntry, User
from core.problems import InvalidInput
from scheduler import casework
from scheduler.models import Appointment, Case, MediatorTask, Participant, Region
from scheduler.overdue import is_overdue
from telephony.models import CallbackRequest
from tests import factories as f
from tests.conftest import both_databases
from tests.support.days import AMS, OFFICE, local, working_day_at

PASSWORD = "correct horse battery"
NORM = 10  # the default INTAKE_NORM_WORKING_DAYS


def opened_working_days_ago(n: int, hour: int = 11) -> datetime:
    """`hour`:00 office time on the n-th working day before today (n = 0: today)."""
    today = utcnow().astimezone(AMS).date()
    return local(OFFICE.add_working_days(today, -n), hour)


@pytest.fixture
def world(runtime: Any) -> dict[str, Any]:
    with runtime.db.write_session() as s:
        m1, m2, m3 = f.mediator(s, name="Anna Alders"), f.mediator(s, name="Bram Bos"), f.mediator(s, name="Cor Claes")
        north, south = Region(name="Noord"), Region(name="Zuid")
        s.add_all([north, south])
        s.flush()
        coordinator, _ = f.staff(s, "coordinator")
        mediator1, _ = f.staff(s, "mediator", m1)
        mediator2, _ = f.staff(s, "mediator", m2)
        return {"m1": m1.id, "m2": m2.id, "m3": m3.id, "north": north.id, "south": south.id,
                "coordinator": coordinator.email, "mediator1": mediator1.email, "mediator2": mediator2.email,
                "coordinator_id": coordinator.id}


def sign_in(client: Any, email: str) -> Any:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def make_case(runtime: Any, mediator_ids: list[int], created_at: datetime | None = None, region: int | None = None,
              **kw: Any) -> int:
    with runtime.db.write_session() as s:
        from scheduler.models import Mediator

        case = f.case(s, [s.get(Mediator, m) for m in mediator_ids], **kw)
        if created_at is not None:
            case.created_at = created_at
        if region is not None:
            case.region = s.get(Region, region)
        return case.id


def add_appointment(runtime: Any, case_id: int, kind: str = "intake", status: str = "confirmed",
                    mediator_ids: tuple[int, ...] = (), start: datetime | None = None) -> int:
    start = start or working_day_at(10)
    with runtime.db.write_session() as s:
        from scheduler.models import Mediator

        row = Appointment(case_id=case_id, kind=kind, mode="phone", start=start, end=start + timedelta(hours=1),
                          status=status, mediators=[s.get(Mediator, m) for m in mediator_ids])
        s.add(row)
        s.flush()
        return row.id


def listed(page: str, ids: list[int]) -> list[int]:
    return [i for i in ids if f'href="/cases/{i}"' in page]


def error_of(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert found, f"no error next to {field}"
    return found.group(1)


def count(runtime: Any, model: type, *where: Any) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- the list ---------------------------------------------------------------------------------

def test_list_filters_by_status_kind_mediator_and_region(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    a = make_case(runtime, [world["m1"]], status="registered", kind="crime", region=world["north"])
    b = make_case(runtime, [world["m2"]], status="intake", kind="traffic_accident", region=world["south"])
    c = make_case(runtime, [world["m1"], world["m2"]], status="closed", kind="traffic_accident")
    every = [a, b, c]
    sign_in(client, world["coordinator"])
    page = client.get("/cases")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert listed(text, every) == every
    assert ">verkeersongeval</td>" in text and ">traffic_accident<" not in text  # stored values as words, in Dutch
    assert listed(client.get("/cases?status=intake").get_data(as_text=True), every) == [b]
    assert listed(client.get("/cases?kind=traffic_accident").get_data(as_text=True), every) == [b, c]
    assert listed(client.get(f"/cases?mediator={world['m1']}").get_data(as_text=True), every) == [a, c]
    assert listed(client.get(f"/cases?region={world['south']}").get_data(as_text=True), every) == [b]
    both = client.get(f"/cases?mediator={world['m2']}&kind=traffic_accident&status=closed").get_data(as_text=True)
    assert listed(both, every) == [c]
    # A value the form does not know is not guessed at: the plain list.
    odd = client.get("/cases?status=lost")
    assert odd.status_code == 302 and odd.headers["Location"].endswith("/cases")


@both_databases
def test_overdue_filter_follows_the_intake_norm_in_working_days(client: Any, runtime: Any,
                                                                world: dict[str, Any]) -> None:
    late = make_case(runtime, [world["m1"]], status="registered", created_at=opened_working_days_ago(NORM + 1))
    called_back = make_case(runtime, [world["m1"]], status="intake", created_at=opened_working_days_ago(NORM + 3))
    on_time = make_case(runtime, [world["m1"]], status="registered", created_at=opened_working_days_ago(NORM - 1))
    just_in = make_case(runtime, [world["m1"]], status="registered", created_at=opened_working_days_ago(NORM, 0))
    planned = make_case(runtime, [world["m1"]], status="intake", created_at=opened_working_days_ago(NORM + 5))
    cancelled_only = make_case(runtime, [world["m1"]], status="intake", created_at=opened_working_days_ago(NORM + 5))
    in_contact = make_case(runtime, [world["m1"]], status="contact", created_at=opened_working_days_ago(NORM + 20))
    add_appointment(runtime, planned, status="confirmed")
    add_appointment(runtime, cancelled_only, status="cancelled")
    add_appointment(runtime, cancelled_only, kind="preparation", status="confirmed")
    every = [late, called_back, on_time, just_in, planned, cancelled_only, in_contact]
    sign_in(client, world["coordinator"])
    overdue = client.get("/cases?overdue=y").get_data(as_text=True)
    assert set(listed(overdue, every)) == {late, called_back, cancelled_only}
    whole = client.get("/cases").get_data(as_text=True)
    assert whole.count("badge danger") == 3  # the same cases marked in the plain list
    # The SQL and the Python rule agree on every case.
    settings = runtime.settings
    with runtime.db.session() as s:
        for case in s.scalars(select(Case)):
            intake = any(a.kind == "intake" and a.status in ("held", "confirmed", "completed")
                         for a in s.scalars(select(Appointment).where(Appointment.case_id == case.id)))
            expected = is_overdue(case.status, intake, case.created_at, utcnow(), settings.intake_norm_working_days,
                                  runtime.workdays, settings.tz)
            assert expected == (case.id in {late, called_back, cancelled_only}), case.id
    # The case page says it too.
    assert "badge danger" in client.get(f"/cases/{late}").get_data(as_text=True)
    assert "badge danger" not in client.get(f"/cases/{planned}").get_data(as_text=True)


def test_list_pages_by_fifty(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        cases = [Case(reference=f"HB-P-{i:03d}", kind="crime", status="registered") for i in range(55)]
        s.add_all(cases)
        s.flush()
        ids = [c.id for c in cases]
    sign_in(client, world["coordinator"])
    first = client.get("/cases").get_data(as_text=True)
    second = client.get("/cases?page=2").get_data(as_text=True)
    assert len(listed(first, ids)) == 50 and len(listed(second, ids)) == 5
    assert set(listed(first, ids)) | set(listed(second, ids)) == set(ids)
    assert 'href="/cases?page=2"' in first and 'rel="prev"' in second
    assert listed(client.get("/cases?page=99").get_data(as_text=True), ids) == listed(second, ids)
    with_filter = client.get("/cases?status=registered").get_data(as_text=True)
    assert 'href="/cases?status=registered&amp;page=2"' in with_filter


# --- a mediator's sight -----------------------------------------------------------------------

def test_a_mediator_sees_only_their_own_cases(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    mine = make_case(runtime, [world["m1"]], reference="HB-MINE-1")
    shared = make_case(runtime, [world["m2"], world["m1"]], reference="HB-SHARED-1")
    theirs = make_case(runtime, [world["m2"]], reference="HB-THEIRS-SECRET")
    with runtime.db.session() as s:
        their_person = s.scalars(select(Participant.id).where(Participant.case_id == theirs)).first()
    sign_in(client, world["mediator1"])
    page = client.get("/cases").get_data(as_text=True)
    assert listed(page, [mine, shared, theirs]) == [mine, shared]
    assert "HB-THEIRS-SECRET" not in page
    assert client.get(f"/cases/{mine}").status_code == 200
    for url in (f"/cases/{theirs}", f"/cases/{theirs}/participants/new", f"/participants/{their_person}/edit",
                "/cases/99999"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "HB-THEIRS-SECRET" not in response.get_data(as_text=True)
    assert client.post(f"/cases/{theirs}", data={"status": "closed"}).status_code == 404
    # The office's actions are not a mediator's, even on their own case.
    assert client.get("/cases/new").status_code == 403
    assert client.get(f"/cases/{mine}/participants/new").status_code == 403
    assert client.post(f"/cases/{mine}", data={"status": "closed", "kind": "crime"}).status_code == 403
    assert "Een dossier openen" not in page and "/cases/new" not in page


def test_signed_out_goes_to_sign_in(client: Any) -> None:
    response = client.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- opening a case -----------------------------------------------------------------------

def _callback(runtime: Any, **kw: Any) -> int:
    due = working_day_at(12)
    values: dict[str, Any] = dict(number="+31612345678", number_typed_in=False, caller_number="+31612345678",
                                  language="en", moment="morning", may_identify=True, wants_confirmation=False,
                                  status="in_progress", window_start=due - timedelta(hours=3), due_at=due)
    values.update(kw)
    with runtime.db.write_session() as s:
        row = CallbackRequest(**values)
        s.add(row)
        s.flush()
        return row.id


@both_databases
def test_open_a_case_from_a_callback_request(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    callback_id = _callback(runtime)
    sign_in(client, world["coordinator"])
    form = client.get(f"/cases/new?callback_id={callback_id}")
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    assert 'value="+31612345678"' in text
    assert re.search(r'<option selected value="en">|<option value="en" selected>', text)
    # From a callback the caller is the first participant: a name is needed.
    nameless = client.post(f"/cases/new?callback_id={callback_id}",
                           data={"kind": "crime", "role": "victim", "phone": "+31612345678", "language": "en",
                                 "region": str(world["north"]), "mediator_1": str(world["m1"])})
    assert nameless.status_code == 400
    assert error_of(nameless.get_data(as_text=True), "name")
    assert count(runtime, Case) == 0
    done = client.post(f"/cases/new?callback_id={callback_id}",
                       data={"kind": "crime", "role": "victim", "name": "Eva de Vries", "phone": "06 1234 5678",
                             "language": "en", "sms_allowed": "y", "region": str(world["north"]),
                             "mediator_1": str(world["m1"]), "mediator_2": str(world["m2"])})
    assert done.status_code == 303, done.get_data(as_text=True)
    with runtime.db.session() as s:
        case = s.scalars(select(Case)).one()
        assert done.headers["Location"].endswith(f"/cases/{case.id}")
        assert (case.status, case.kind, case.region.name) == ("registered", "crime", "Noord")
        assert [m.id for m in case.mediators] == [world["m1"], world["m2"]]
        person = case.participants[0]
        assert (person.name, person.phone, person.language, person.sms_allowed) == (
            "Eva de Vries", "+31612345678", "en", True)
        assert s.get(CallbackRequest, callback_id).case_id == case.id
        actions = set(s.scalars(select(AuditEntry.action)))
        assert {"case.created", "participant.created", "callback.linked"} <= actions
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/callbacks/{callback_id}"' in page
    assert "Terugbelverzoek gekoppeld aan dit dossier" in page
    assert "Eva de Vries" in page


def test_a_callback_out_of_sight_or_unknown_is_not_found(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    assert client.get("/cases/new?callback_id=424242").status_code == 404


def test_a_callback_already_linked_keeps_its_case(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    first = make_case(runtime, [world["m1"]], reference="HB-FIRST")
    callback_id = _callback(runtime, case_id=first)
    sign_in(client, world["coordinator"])
    assert "HB-FIRST" in client.get(f"/cases/new?callback_id={callback_id}").get_data(as_text=True)
    done = client.post(f"/cases/new?callback_id={callback_id}",
                       data={"kind": "other", "role": "victim", "name": "Jan", "language": "nl"})
    assert done.status_code == 303
    with runtime.db.session() as s:
        assert s.get(CallbackRequest, callback_id).case_id == first


def test_open_a_case_without_a_participant(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    assert client.get("/cases/new").status_code == 200
    done = client.post("/cases/new", data={"kind": "traffic_accident", "role": "victim", "language": "nl"})
    assert done.status_code == 303
    with runtime.db.session() as s:
        case = s.scalars(select(Case)).one()
        assert case.participants == [] and case.mediators == [] and case.region is None
        assert case.reference.startswith("HB-")


def test_open_a_case_with_a_bad_phone_saves_nothing(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["coordinator"])
    response = client.post("/cases/new", data={"kind": "crime", "role": "victim", "name": "Piet", "phone": "12",
                                               "language": "nl"})
    assert response.status_code == 400
    assert error_of(response.get_data(as_text=True), "phone") == "Dit is geen geldig telefoonnummer."
    assert count(runtime, Case) == 0 and count(runtime, Participant) == 0


# --- participants ---------------------------------------------------------------------------

def test_add_a_participant_with_a_bad_phone_shows_the_error_and_adds_nothing(client: Any, runtime: Any,
                                                                            world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"]], roles=())
    sign_in(client, world["coordinator"])
    assert client.get(f"/cases/{case_id}/participants/new").status_code == 200
    bad = client.post(f"/cases/{case_id}/participants/new",
                      data={"name": "Kees", "role": "offender", "phone": "0612", "language": "nl"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert error_of(page, "phone")
    assert 'value="Kees"' in page  # what was typed stays
    assert count(runtime, Participant) == 0
    # A landline cannot take the texts the participant allows: casework's rule, next to the box.
    landline = client.post(f"/cases/{case_id}/participants/new",
                           data={"name": "Kees", "role": "offender", "phone": "030 123 4567", "language": "nl",
                                 "sms_allowed": "y"})
    assert landline.status_code == 400
    assert "mobiel" in error_of(landline.get_data(as_text=True), "sms_allowed")
    assert count(runtime, Participant) == 0
    no_mail = client.post(f"/cases/{case_id}/participants/new",
                          data={"name": "Kees", "role": "offender", "language": "nl", "email_allowed": "y"})
    assert no_mail.status_code == 400 and error_of(no_mail.get_data(as_text=True), "email_allowed")
    good = client.post(f"/cases/{case_id}/participants/new",
                       data={"name": "Kees", "role": "offender", "phone": "030 123 4567", "language": "en",
                             "email": " kees@example.net ", "email_allowed": "y", "full_text_opt_in": "y"})
    assert good.status_code == 303
    with runtime.db.session() as s:
        kees = s.scalars(select(Participant)).one()
        assert (kees.phone, kees.email, kees.language, kees.sms_allowed, kees.email_allowed,
                kees.full_text_opt_in) == ("+31301234567", "kees@example.net", "en", False, True, True)


def test_change_a_participant(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"]], roles=("victim",))
    with runtime.db.session() as s:
        person = s.scalars(select(Participant)).one()
        before = (person.name, person.phone)
    sign_in(client, world["coordinator"])
    form = client.get(f"/participants/{person.id}/edit")
    assert form.status_code == 200 and f'value="{before[1]}"' in form.get_data(as_text=True)
    bad = client.post(f"/participants/{person.id}/edit",
                      data={"name": "", "role": "victim", "phone": before[1], "language": "nl", "sms_allowed": "y"})
    assert bad.status_code == 400 and error_of(bad.get_data(as_text=True), "name")
    done = client.post(f"/participants/{person.id}/edit",
                       data={"name": before[0], "role": "next_of_kin", "phone": before[1], "language": "en",
                             "sms_allowed": "y", "email": "new@example.net", "email_allowed": "y"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/cases/{case_id}#participants")
    with runtime.db.session() as s:
        person = s.get(Participant, person.id)
        assert (person.role, person.language, person.email, person.name) == (
            "next_of_kin", "en", "new@example.net", before[0])
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "participant.updated")).one()
        assert entry.detail == "email,language,role"
    history = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Gegevens van deelnemer gewijzigd" in history and before[0] not in history.split('id="history"')[-1]


# --- mediators, region, status ---------------------------------------------------------------

def _change(client: Any, case_id: int, **values: Any) -> Any:
    data = {"kind": "crime", "status": "registered", "region": "", "mediator_1": "", "mediator_2": ""}
    data.update({k: str(v) for k, v in values.items()})
    return client.post(f"/cases/{case_id}", data=data)


def test_assign_one_or_two_mediators_never_more(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [], status="registered")
    sign_in(client, world["coordinator"])
    assert _change(client, case_id, mediator_1=world["m1"], mediator_2=world["m2"]).status_code == 303
    with runtime.db.session() as s:
        assert [m.id for m in s.get(Case, case_id).mediators] == [world["m1"], world["m2"]]
    twice = _change(client, case_id, mediator_1=world["m3"], mediator_2=world["m3"])
    assert twice.status_code == 400 and error_of(twice.get_data(as_text=True), "mediator_2")
    only_second = _change(client, case_id, mediator_2=world["m3"])
    assert only_second.status_code == 303
    with runtime.db.session() as s:
        assert [m.id for m in s.get(Case, case_id).mediators] == [world["m3"]]
    # Three is refused by the rule itself, whoever asks (the page offers two places; the API says why).
    with runtime.db.write_session() as s:
        actor = s.get(User, world["coordinator_id"])
        with pytest.raises(InvalidInput) as refused:
            casework.update_case(s, actor, case_id, {"mediator_ids": [world["m1"], world["m2"], world["m3"]]},
                                 utcnow())
        assert refused.value.errors == [{"field": "mediator_ids", "message": "at most 2 mediators"}]
    with runtime.db.session() as s:
        assert [m.id for m in s.get(Case, case_id).mediators] == [world["m3"]]


def test_a_mediator_with_appointments_ahead_stays_and_the_page_says_why(client: Any, runtime: Any,
                                                                        world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"]], status="intake")
    add_appointment(runtime, case_id, mediator_ids=(world["m1"],))
    sign_in(client, world["coordinator"])
    refused = _change(client, case_id, status="intake", mediator_1=world["m2"])
    assert refused.status_code == 400
    assert "afspraken" in error_of(refused.get_data(as_text=True), "mediator_1")
    closing = _change(client, case_id, status="closed", mediator_1=world["m1"])
    assert closing.status_code == 400 and error_of(closing.get_data(as_text=True), "status")
    with runtime.db.session() as s:
        case = s.get(Case, case_id)
        assert case.status == "intake" and [m.id for m in case.mediators] == [world["m1"]]
    assert count(runtime, AuditEntry, AuditEntry.action == "case.updated") == 0


def test_status_and_region_change_is_audited_and_in_the_history(client: Any, runtime: Any,
                                                                 world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"]], status="registered")
    sign_in(client, world["coordinator"])
    done = _change(client, case_id, status="intake", region=world["south"], mediator_1=world["m1"])
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/cases/{case_id}")
    with runtime.db.session() as s:
        case = s.get(Case, case_id)
        assert case.status == "intake" and case.region.name == "Zuid"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.updated")).one()
        assert (entry.object_type, entry.object_id, entry.detail, entry.actor_id) == (
            "case", case_id, "region_id,status", world["coordinator_id"])
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Dossier gewijzigd: regio, status" in page
    unchanged = _change(client, case_id, status="intake", region=world["south"], mediator_1=world["m1"])
    assert unchanged.status_code == 303
    assert count(runtime, AuditEntry, AuditEntry.action == "case.updated") == 1


def test_the_case_page_shows_participants_appointments_tasks_and_words(client: Any, runtime: Any,
                                                                       world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"]], status="intake", kind="traffic_accident")
    appointment = add_appointment(runtime, case_id, kind="intake", mediator_ids=(world["m1"],))
    with runtime.db.write_session() as s:
        person = s.scalars(select(Participant).where(Participant.case_id == case_id)).first()
        person.withdrawn_at = utcnow()
        s.add(MediatorTask(mediator_id=world["m1"], case_id=case_id, kind="inform_other_party",
                           appointment_id=appointment))
    sign_in(client, world["mediator1"])
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for words in ("verkeersongeval", "slachtoffer", "telefonisch", "bevestigd", "Anna Alders",
                  "de andere partij persoonlijk informeren", "gestopt op"):
        assert words in text, words
    for raw in ("traffic_accident", "inform_other_party", ">phone<", ">confirmed<"):
        assert raw not in text, raw
    assert "Dossier wijzigen" not in text  # the office's form is not a mediator's
    english = client.post("/language", data={"language": "en", "next": f"/cases/{case_id}"})
    assert english.status_code == 302
    text = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "traffic accident" in text and "verkeersongeval" not in text


def test_links_to_other_areas_appear_once_their_pages_exist(app: Any, client: Any, runtime: Any,
                                                            world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"]], status="registered", roles=("victim",))
    with runtime.db.session() as s:
        person = s.scalars(select(Participant.id).where(Participant.case_id == case_id)).one()
    sign_in(client, world["coordinator"])
    text = client.get(f"/cases/{case_id}").get_data(as_text=True)
    with app.test_request_context():
        from flask import url_for

        for endpoint, args in (("desk_booking.plan_intake", {"case_id": case_id}),
                               ("desk_booking.plan_intake", {"case_id": case_id, "participant_id": person}),
                               ("desk_meeting.plan", {"case_id": case_id}),
                               ("desk_meeting.withdraw", {"participant_id": person})):
            if endpoint in app.view_functions:
                assert f'href="{url_for(endpoint, **args)}"'.replace("&", "&amp;") in text, endpoint


def test_times_and_dates_are_in_the_office_zone(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"]], status="intake")
    start = working_day_at(10).astimezone(timezone.utc)
    add_appointment(runtime, case_id, start=start)
    sign_in(client, world["coordinator"])
    text = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "10:00–11:00" in text
