"""The sick-mediator page: the preview is what "apply" does; what cannot move says why; coordinators only."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.db import utcnow
from scheduler import booking
from scheduler.models import Appointment, MediatorTask
from scheduler.policy import policy_of
from scheduler.reassign import PlanChanged, plan_reassignment, reassign_future
from scheduler.rules import BookingRequest
from tests import factories as f
from tests.support.days import local, working_day

PASSWORD = "correct horse battery"
EXPECTED = re.compile(r'name="expected"[^>]*value="([^"]+)"')


def _book(s: Any, runtime: Any, case: Any, mediator_id: int, room_id: int, day: date, hour: int) -> int:
    start = local(day, hour)
    req = BookingRequest(case_id=case.id, kind="intake", mode="in_person", start=start,
                         end=start + timedelta(hours=1), mediator_ids=(mediator_id,), room_id=room_id,
                         participant_ids=(case.participants[0].id,))
    return booking.book(s, req, None, utcnow(), policy=policy_of(runtime.settings, runtime.workdays)).id


@pytest.fixture
def office(runtime: Any) -> dict[str, Any]:
    """Mediator `sick` has two appointments: one their colleague can take, one at a time the colleague is busy."""
    first = working_day(14)
    second = runtime.workdays.add_working_days(first, 1)
    with runtime.db.write_session() as s:
        sick, colleague = f.mediator(s, name="Saskia Ziek"), f.mediator(s, name="Cor Collega")
        rooms = f.location(s, rooms=3).rooms
        case, other = f.case(s, [sick]), f.case(s, [colleague])
        movable = _book(s, runtime, case, sick.id, rooms[0].id, first, 10)
        stuck = _book(s, runtime, case, sick.id, rooms[0].id, second, 10)
        _book(s, runtime, other, colleague.id, rooms[1].id, second, 10)
        task = MediatorTask(mediator_id=sick.id, case_id=case.id, kind="inform_other_party", note="")
        s.add(task)
        coordinator, _ = f.staff(s, "coordinator")
        mediator, _ = f.staff(s, "mediator", sick)
        s.flush()
        return {"sick": sick.id, "colleague": colleague.id, "movable": movable, "stuck": stuck, "task": task.id,
                "first": first, "second": second, "rooms": [r.id for r in rooms], "other_case": other.id,
                "coordinator": coordinator.email, "mediator": mediator.email}


def _login(client: Any, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def _query(office: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"mediator_id": office["sick"], "first_day": office["first"].isoformat(),
            "last_day": office["second"].isoformat(), **changes}


def _mediators_of(runtime: Any, appointment_id: int) -> list[int]:
    with runtime.db.session() as s:
        return [m.id for m in s.get(Appointment, appointment_id).mediators]


def _task_owner(runtime: Any, task_id: int) -> int:
    with runtime.db.session() as s:
        return s.get(MediatorTask, task_id).mediator_id


def test_the_page_offers_the_choice_with_the_next_working_days(client: Any, office: dict[str, Any],
                                                                runtime: Any) -> None:
    _login(client, office["coordinator"])
    page = client.get("/reassign")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    today = utcnow().astimezone(runtime.settings.tz).date()
    assert f'value="{today.isoformat()}"' in html
    assert f'value="{runtime.workdays.add_working_days(today, 5).isoformat()}"' in html
    assert "Saskia Ziek" in html and 'href="/reassign"' in html  # the menu entry
    assert 'name="expected"' not in html  # no proposal before a choice


def test_preview_is_what_apply_does(client: Any, office: dict[str, Any], runtime: Any) -> None:
    _login(client, office["coordinator"])
    preview = client.get("/reassign", query_string=_query(office))
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    expected = EXPECTED.search(html).group(1)
    assert "Cor Collega" in html
    assert "1 collega is dan bezet" in html  # why the second one stays, in words
    with runtime.db.session() as s:
        plan = plan_reassignment(s, office["sick"], None, utcnow(),
                                 policy=policy_of(runtime.settings, runtime.workdays),
                                 first_day=office["first"], last_day=office["second"])
    assert expected == plan.signature()
    assert plan.moves == ((office["movable"], office["colleague"]),)
    assert [u.appointment_id for u in plan.unmovable] == [office["stuck"]]
    assert plan.tasks == ((office["task"], office["colleague"]),)
    assert _mediators_of(runtime, office["movable"]) == [office["sick"]]  # a preview writes nothing

    done = client.post("/reassign", data={**_query(office), "expected": expected})
    assert done.status_code == 200, done.get_data(as_text=True)
    text = done.get_data(as_text=True)
    assert "Cor Collega" in text and "1 collega is dan bezet" in text
    assert _mediators_of(runtime, office["movable"]) == [office["colleague"]]
    assert _mediators_of(runtime, office["stuck"]) == [office["sick"]]
    assert _task_owner(runtime, office["task"]) == office["colleague"]


def test_a_change_between_preview_and_apply_moves_nothing_and_shows_the_new_plan(
        client: Any, office: dict[str, Any], runtime: Any) -> None:
    _login(client, office["coordinator"])
    expected = EXPECTED.search(client.get("/reassign", query_string=_query(office)).get_data(as_text=True)).group(1)
    with runtime.db.write_session() as s:  # meanwhile the colleague gets an appointment at the first one's time
        from scheduler.models import Case

        other = s.get(Case, office["other_case"])
        _book(s, runtime, other, office["colleague"], office["rooms"][2], office["first"], 10)
    refused = client.post("/reassign", data={**_query(office), "expected": expected})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert 'class="flash flash-warning"' in html
    assert EXPECTED.search(html) is None or EXPECTED.search(html).group(1) != expected
    assert _mediators_of(runtime, office["movable"]) == [office["sick"]]
    assert _task_owner(runtime, office["task"]) == office["sick"]


def test_reassign_future_refuses_a_plan_that_changed(runtime: Any, office: dict[str, Any]) -> None:
    policy = policy_of(runtime.settings, runtime.workdays)
    with pytest.raises(PlanChanged) as caught, runtime.db.write_session() as s:
        reassign_future(s, office["sick"], None, utcnow(), policy=policy, first_day=office["first"],
                        last_day=office["second"], expected="m0;")
    assert caught.value.plan.moves == ((office["movable"], office["colleague"]),)
    assert _mediators_of(runtime, office["movable"]) == [office["sick"]]


def test_nobody_else_active_says_so(runtime: Any, office: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        from scheduler.models import Mediator

        s.get(Mediator, office["colleague"]).active = False
    with runtime.db.session() as s:
        plan = plan_reassignment(s, office["sick"], None, utcnow(), policy=policy_of(runtime.settings, runtime.workdays),
                                 first_day=office["first"], last_day=office["second"])
    assert plan.moves == () and {u.reasons for u in plan.unmovable} == {(("no_candidates", 0),)}


def test_a_mediator_may_not_use_the_page(client: Any, office: dict[str, Any], runtime: Any) -> None:
    _login(client, office["mediator"])
    assert client.get("/reassign").status_code == 403
    assert client.get("/reassign", query_string=_query(office)).status_code == 403
    posted = client.post("/reassign", data={**_query(office), "expected": "anything"})
    assert posted.status_code == 403
    assert 'href="/reassign"' not in client.get("/").get_data(as_text=True)
    assert _mediators_of(runtime, office["movable"]) == [office["sick"]]


@pytest.mark.parametrize("changes", [
    {"last_day": "FIRST-1"},           # before the first day
    {"first_day": "2001-01-01"},        # in the past
    {"first_day": "not a day"},
    {"mediator_id": ""},
])
def test_invalid_choices_change_nothing_and_say_why_next_to_the_field(client: Any, office: dict[str, Any],
                                                                     runtime: Any, changes: dict[str, str]) -> None:
    _login(client, office["coordinator"])
    if changes.get("last_day") == "FIRST-1":
        changes = {"last_day": (office["first"] - timedelta(days=1)).isoformat()}
    expected = EXPECTED.search(client.get("/reassign", query_string=_query(office)).get_data(as_text=True)).group(1)
    shown = client.get("/reassign", query_string=_query(office, **changes))
    assert shown.status_code == 400 and 'class="field-error"' in shown.get_data(as_text=True)
    posted = client.post("/reassign", data={**_query(office, **changes), "expected": expected})
    assert posted.status_code == 400 and 'class="field-error"' in posted.get_data(as_text=True)
    assert _mediators_of(runtime, office["movable"]) == [office["sick"]]
    assert _task_owner(runtime, office["task"]) == office["sick"]


def test_apply_without_the_form_token_changes_nothing(client: Any, office: dict[str, Any], runtime: Any) -> None:
    _login(client, office["coordinator"])
    expected = EXPECTED.search(client.get("/reassign", query_string=_query(office)).get_data(as_text=True)).group(1)
    refused = client.raw_post("/reassign", data={**_query(office), "expected": expected})
    assert refused.status_code == 400
    assert _mediators_of(runtime, office["movable"]) == [office["sick"]]


def test_a_plan_counts_what_it_already_gave_a_colleague(runtime: Any, office: dict[str, Any]) -> None:
    """The sick mediator's next appointment starts when the first ends, and the colleague needs an hour between
    appointments: given the first, they cannot take the second, in the preview exactly as in the writes."""
    with runtime.db.write_session() as s:
        from scheduler.models import Case, Mediator

        s.get(Mediator, office["colleague"]).buffer_minutes = 60
        case = s.get(Case, s.get(Appointment, office["movable"]).case_id)
        start = local(office["first"], 11)
        same_time = booking.book(s, BookingRequest(
            case_id=case.id, kind="intake", mode="in_person", start=start, end=start + timedelta(hours=1),
            mediator_ids=(office["sick"],), room_id=office["rooms"][2], participant_ids=(case.participants[1].id,)),
            None, utcnow(), policy=policy_of(runtime.settings, runtime.workdays)).id
    policy = policy_of(runtime.settings, runtime.workdays)
    with runtime.db.session() as s:
        plan = plan_reassignment(s, office["sick"], None, utcnow(), policy=policy, first_day=office["first"],
                                 last_day=office["first"])
    assert plan.moves == ((office["movable"], office["colleague"]),)
    assert [(u.appointment_id, u.reasons) for u in plan.unmovable] == [(same_time, (("busy", 1),))]
    with runtime.db.write_session() as s:
        done = reassign_future(s, office["sick"], None, utcnow(), policy=policy, first_day=office["first"],
                               last_day=office["first"], expected=plan.signature())
    assert done.plan == plan
    assert _mediators_of(runtime, same_time) == [office["sick"]]
