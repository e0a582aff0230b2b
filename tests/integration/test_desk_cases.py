"""The case pages (scheduler.desk_cases) through the Flask test client, on PostgreSQL: what they show.

The list and its filters (overdue as scheduler.overdue says, the same in SQL
as in Python), pages of 50, a mediator's narrower sight (another's case is a
404), and the case page with its participants, appointments, tasks, links and
times. Opening and editing cases: test_desk_cases_open_edit.py.
"""
from __future__ import annotations

from datetime import timezone
from typing import Any

from sqlalchemy import select

from core.db import utcnow
from scheduler.models import Appointment, Case, MediatorTask, Participant
from scheduler.overdue import is_overdue
from tests.conftest import both_databases
from tests.integration.desk_cases_helpers import (NORM, add_appointment, listed, make_case,  # noqa: F401
                                                  opened_working_days_ago, sign_in, world)
from tests.support.days import working_day_at


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
