"""What the case pages cost: a fixed number of queries however many rows they show, and the office's form
for a case's details on a page of its own (scheduler.desk_cases).

Counted with SQLAlchemy's cursor events on the app's own engine, after
sign-in: the list runs the same queries for 3 cases as for 60, the case page
the same for 1 appointment as for 8 (no query per row).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import event, select

from core.models import AuditEntry
from scheduler.models import Case, Mediator, MediatorTask, Participant
from tests.integration.desk_cases_helpers import add_appointment, error_of, make_case, sign_in, world  # noqa: F401
from tests.support.days import working_day_at

LIST_QUERIES = 3  # the session with its user; the filters' mediators and regions; the page of cases with its count
CASE_QUERIES = 7  # the session; the case with its people; appointments; offered times; tasks; callback requests; history


@contextmanager
def counted(runtime: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)


def _queries(client: Any, runtime: Any, url: str) -> int:
    with counted(runtime) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_list_runs_the_same_queries_for_three_cases_as_for_sixty(client: Any, runtime: Any,
                                                                       world: dict[str, Any]) -> None:
    for _ in range(3):
        make_case(runtime, [world["m1"], world["m2"]], region=world["north"])
    sign_in(client, world["coordinator"])
    client.get("/cases")  # the session's last use is written at most once a minute: not in the count
    few = _queries(client, runtime, "/cases")
    for _ in range(57):
        make_case(runtime, [world["m1"]], region=world["south"])
    assert _queries(client, runtime, "/cases") == few == LIST_QUERIES
    assert _queries(client, runtime, "/cases?page=2") == LIST_QUERIES
    assert _queries(client, runtime, "/cases?overdue=y&status=registered") == LIST_QUERIES


def test_the_case_page_runs_the_same_queries_for_one_appointment_as_for_eight(client: Any, runtime: Any,
                                                                                world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"], world["m2"]], region=world["north"], status="intake")
    add_appointment(runtime, case_id, mediator_ids=(world["m1"],))
    sign_in(client, world["coordinator"])
    client.get(f"/cases/{case_id}")
    one = _queries(client, runtime, f"/cases/{case_id}")
    with runtime.db.write_session() as s:
        people = s.scalars(select(Participant.id).where(Participant.case_id == case_id)).all()
        s.add_all([MediatorTask(mediator_id=world["m1"], case_id=case_id, kind="inform_other_party"),
                   AuditEntry(action="case.updated", object_type="case", object_id=case_id, detail="status")])
    for hour in range(9, 16):
        add_appointment(runtime, case_id, kind="preparation", mediator_ids=(world["m1"], world["m2"]),
                        start=working_day_at(hour, days_ahead=7))
    assert people and _queries(client, runtime, f"/cases/{case_id}") == one == CASE_QUERIES
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert page.count("Anna Alders, Bram Bos") >= 7  # each appointment with its two mediators
    assert "Dossier gewijzigd: status" in page


def test_the_case_details_form_has_its_own_page(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"], world["m2"]], region=world["south"], status="intake",
                        kind="traffic_accident", reference="HB-EDIT-1")
    sign_in(client, world["coordinator"])
    show = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}/edit"' in show and "Dossier wijzigen" in show
    assert 'id="mediator_1"' not in show  # the case page itself loads no list of every mediator
    edit = client.get(f"/cases/{case_id}/edit")
    assert edit.status_code == 200
    html = edit.get_data(as_text=True)
    assert "HB-EDIT-1" in html and f'action="/cases/{case_id}"' in html
    for field, value in (("status", "intake"), ("kind", "traffic_accident"), ("region", world["south"]),
                         ("mediator_1", world["m1"]), ("mediator_2", world["m2"])):
        assert f'<option selected value="{value}">' in html.split(f'id="{field}"', 1)[1].split("</select>", 1)[0]
    # A refusal comes back on this page, next to its field, and nothing changes.
    twice = client.post(f"/cases/{case_id}", data={"kind": "traffic_accident", "status": "intake",
                                                    "region": str(world["south"]), "mediator_1": str(world["m3"]),
                                                    "mediator_2": str(world["m3"])})
    assert twice.status_code == 400 and error_of(twice.get_data(as_text=True), "mediator_2")
    assert "Er is niets opgeslagen" in twice.get_data(as_text=True)
    with runtime.db.session() as s:
        assert [m.id for m in s.get(Case, case_id).mediators] == [world["m1"], world["m2"]]


def test_an_inactive_mediator_of_the_case_stays_a_choice_their_name_as_text(client: Any, runtime: Any,
                                                                            world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m3"]])
    with runtime.db.write_session() as s:
        s.get(Mediator, world["m3"]).active = False
        s.get(Mediator, world["m1"]).active = False
        s.get(Mediator, world["m1"]).name = "Anna <b>Alders</b>"
    sign_in(client, world["coordinator"])
    html = client.get(f"/cases/{case_id}/edit").get_data(as_text=True)
    assert f'<option selected value="{world["m3"]}">Cor Claes (inactief)</option>' in html
    assert "<b>" not in html  # an inactive mediator not on the case is no choice; no name is ever markup
    with runtime.db.write_session() as s:
        s.get(Mediator, world["m3"]).name = "Cor <i>Claes</i>"
    html = client.get(f"/cases/{case_id}/edit").get_data(as_text=True)
    assert "Cor &lt;i&gt;Claes&lt;/i&gt; (inactief)" in html and "<i>" not in html


def test_the_form_page_is_the_office_s(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    mine = make_case(runtime, [world["m1"]])
    theirs = make_case(runtime, [world["m2"]])
    sign_in(client, world["mediator1"])
    assert client.get(f"/cases/{mine}/edit").status_code == 403
    assert client.get(f"/cases/{theirs}/edit").status_code == 404
    assert "/edit" not in client.get(f"/cases/{mine}").get_data(as_text=True)


def test_signed_out_the_form_page_sends_to_sign_in(client: Any, runtime: Any, world: dict[str, Any]) -> None:
    case_id = make_case(runtime, [world["m1"]])
    response = client.get(f"/cases/{case_id}/edit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
