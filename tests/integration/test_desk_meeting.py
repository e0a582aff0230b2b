"""The joint-meeting page and a participant's withdrawal with its undo, through the Flask test client.

The rules are the booking engine's and withdrawal's own (tests/integration/test_booking.py,
test_withdrawal.py, test_departures_writers.py); here the pages must use them: a meeting planned with
staggered arrivals stores the staggered departures, a refusal comes back as a sentence next to its field
and writes nothing, a coordinator overrides the waiting-area rule with a reason and a mediator cannot,
the withdrawal page shows what `withdraw` then does, and anything out of a mediator's sight is a 404.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import utcnow
from core.models import User
from scheduler import booking, withdrawal
from scheduler.models import Appointment, Attendance, MediatorTask, Participant, Room
from scheduler.policy import policy_of
from scheduler.rules import BookingRequest
from tests import factories as f
from tests.support.days import local, working_day

PASSWORD = "correct horse battery"
EXPECTED = re.compile(r'name="expected"[^>]*value="([^"]*)"')


@pytest.fixture
def office(runtime: Any) -> dict[str, Any]:
    """Case `case` (victim, offender) of mediator m1; case `other` of m3 alone; a room with a separate
    waiting area and one without."""
    with runtime.db.write_session() as s:
        m1, m2, m3 = f.mediator(s, name="Anouk Bemiddelaar"), f.mediator(s), f.mediator(s)
        case, other = f.case(s, [m1, m2]), f.case(s, [m3])
        loc = f.location(s, rooms=1, waiting_area=True, name="Huis van de Wijk")
        plain = Room(location_id=loc.id, name="Kleine kamer", capacity=4, separate_waiting_area=False, active=True)
        s.add(plain)
        coordinator, _ = f.staff(s, "coordinator")
        mediator, _ = f.staff(s, "mediator", m1)
        outsider, _ = f.staff(s, "mediator", m3)
        s.flush()
        victim, offender = (p.id for p in case.participants)
        return {"m1": m1.id, "m2": m2.id, "m3": m3.id, "case": case.id, "other": other.id,
                "victim": victim, "offender": offender, "other_people": [p.id for p in other.participants],
                "room": loc.rooms[0].id, "plain": plain.id, "coordinator": coordinator.email,
                "mediator": mediator.email, "outsider": outsider.email, "day": working_day(14)}


def _login(client: Any, email: str, language: str | None = None, runtime: Any = None) -> None:
    if language is not None:
        with runtime.db.write_session() as s:
            s.scalar(select(User).where(User.email == email)).language = language
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def _form(o: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"participant_ids": [o["victim"], o["offender"]], "mediator_ids": [o["m1"]],
                            "mode": "in_person", "room_id": str(o["room"]), "day": o["day"].isoformat(),
                            "start_time": "10:00", "duration": "120", f"arrival_{o['victim']}": "0",
                            f"arrival_{o['offender']}": "15", "waiting_area_reason": "", "outside_hours": "",
                            "action": "plan"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _count(runtime: Any, model: type = Appointment) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _times(runtime: Any, appointment_id: int) -> dict[int, tuple[datetime | None, datetime | None]]:
    with runtime.db.session() as s:
        return {a.participant_id: (a.arrival, a.departure)
                for a in s.scalars(select(Attendance).where(Attendance.appointment_id == appointment_id))}


def _plan_url(o: dict[str, Any], case: str = "case") -> str:
    return f"/cases/{o[case]}/meeting"


# --- the meeting page ------------------------------------------------------------------------------

def test_the_page_offers_both_parties_the_mediators_and_staggered_arrivals(client: Any, runtime: Any,
                                                                          office: dict[str, Any]) -> None:
    _login(client, office["mediator"])
    response = client.get(_plan_url(office))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="nl">' in page and "Gezamenlijk gesprek plannen" in page
    assert f'name="arrival_{office["victim"]}" value="0"' in page  # the harmed side at the start ...
    assert f'name="arrival_{office["offender"]}" value="15"' in page  # ... the other ARRIVAL_GAP later
    assert re.search(rf'checked id="mediator_ids-0" name="mediator_ids" type="checkbox" value="{office["m1"]}"',
                     page)  # the mediator themselves, first and preselected
    assert "Huis van de Wijk, Kleine kamer (geen aparte wachtruimte)" in page
    assert 'name="waiting_area_override"' not in page  # the override is a coordinator's


def test_planning_through_the_page_books_staggered_arrivals_and_departures(client: Any, runtime: Any,
                                                                         office: dict[str, Any]) -> None:
    _login(client, office["mediator"])
    response = client.post(_plan_url(office), data=_form(office))
    assert response.status_code == 303, response.get_data(as_text=True)
    appointment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    start = local(office["day"], 10)
    end = start + timedelta(hours=2)
    assert _times(runtime, appointment_id) == {
        office["victim"]: (start, end - timedelta(minutes=10)),  # arrived first, leaves first
        office["offender"]: (start + timedelta(minutes=15), end)}
    with runtime.db.session() as s:
        a = s.get(Appointment, appointment_id)
        assert (a.kind, a.mode, a.room_id, a.status) == ("meeting", "in_person", office["room"], "confirmed")
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "10:00" in shown and "11:50" in shown and "10:15" in shown and "12:00" in shown
    assert "Het gezamenlijke gesprek is gepland" in shown  # the flash, in Dutch


def test_check_shows_each_partys_times_and_books_nothing(client: Any, runtime: Any, office: dict[str, Any]) -> None:
    _login(client, office["coordinator"])
    response = client.post(_plan_url(office), data=_form(office, action="check", duration="90"))
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert "11:20" in page and "11:30" in page and "10:15" in page  # 90 minutes: the victim leaves at 11:20
    assert _count(runtime) == 0 and _count(runtime, Attendance) == 0


def test_arrivals_too_close_are_refused_with_the_sentence_and_nothing_is_written(client: Any, runtime: Any,
                                                                               office: dict[str, Any]) -> None:
    _login(client, office["mediator"])
    response = client.post(_plan_url(office), data=_form(office, **{f"arrival_{office['offender']}": "5"}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="arrivals-error"' in page
    assert "De twee partijen komen minstens 15 minuten na elkaar" in page
    assert _count(runtime) == 0


def test_a_second_party_arriving_after_the_first_leaves_is_refused(client: Any, runtime: Any,
                                                                  office: dict[str, Any]) -> None:
    _login(client, office["mediator"])
    data = _form(office, duration="60", **{f"arrival_{office['offender']}": "55"})
    response = client.post(_plan_url(office), data=data)
    assert response.status_code == 400
    assert "10 minuten voor het einde" in response.get_data(as_text=True)
    assert _count(runtime) == 0


def test_a_room_without_a_waiting_area_is_refused_for_a_mediator(client: Any, runtime: Any,
                                                                office: dict[str, Any]) -> None:
    _login(client, office["mediator"])
    response = client.post(_plan_url(office), data=_form(office, room_id=str(office["plain"])))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="room_id-error"' in page and "aparte wachtruimte" in page
    # Posting the coordinator's override anyway: the engine says no.
    forced = client.post(_plan_url(office), data=_form(office, room_id=str(office["plain"]), waiting_area_override="y",
                                                       waiting_area_reason="no_other_room"))
    assert forced.status_code == 400
    assert "Alleen een coördinator" in forced.get_data(as_text=True)
    assert _count(runtime) == 0


def test_a_coordinator_overrides_the_waiting_area_with_a_reason(client: Any, runtime: Any,
                                                               office: dict[str, Any]) -> None:
    _login(client, office["coordinator"])
    page = client.get(_plan_url(office)).get_data(as_text=True)
    assert 'name="waiting_area_override"' in page
    no_reason = client.post(_plan_url(office), data=_form(office, room_id=str(office["plain"]),
                                                          waiting_area_override="y"))
    assert no_reason.status_code == 400 and 'id="waiting_area_reason-error"' in no_reason.get_data(as_text=True)
    assert _count(runtime) == 0
    done = client.post(_plan_url(office), data=_form(office, room_id=str(office["plain"]), waiting_area_override="y",
                                                     waiting_area_reason="no_other_room"))
    assert done.status_code == 303, done.get_data(as_text=True)
    with runtime.db.session() as s:
        a = s.scalars(select(Appointment)).one()
        assert (a.room_id, a.waiting_area_override, a.waiting_area_reason) == (office["plain"], True, "no_other_room")


@pytest.mark.parametrize("changes, field", [
    ({"day": ""}, "day"),
    ({"start_time": "25:99"}, "start_time"),
    ({"participant_ids": None}, "participant_ids"),
    ({"duration": "7"}, "duration"),
    ({"room_id": "999999"}, "room_id"),
    ({"mediator_ids": ["999999"]}, "mediator_ids"),
])
def test_invalid_posts_change_nothing_and_say_so_next_to_the_field(client: Any, runtime: Any,
                                                                  office: dict[str, Any], changes: dict[str, Any],
                                                                  field: str) -> None:
    _login(client, office["coordinator"])
    data = _form(office, **changes)
    if changes.get("participant_ids", "x") is None:
        data["participant_ids"] = [office["victim"]]  # one side only
    response = client.post(_plan_url(office), data=data)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _count(runtime) == 0


def test_a_time_that_is_taken_is_a_sentence_not_an_error_page(client: Any, runtime: Any,
                                                             office: dict[str, Any]) -> None:
    _login(client, office["coordinator"])
    assert client.post(_plan_url(office), data=_form(office)).status_code == 303
    again = client.post(_plan_url(office), data=_form(office, room_id=str(office["plain"]), waiting_area_override="y",
                                                      waiting_area_reason="urgent"))
    assert again.status_code == 409
    assert "Niet vrij op dat moment" in again.get_data(as_text=True)
    assert _count(runtime) == 1


def test_free_times_of_the_mediators_and_room_fill_in_the_date_and_start(client: Any, runtime: Any,
                                                                        office: dict[str, Any]) -> None:
    _login(client, office["mediator"])
    found = client.post(_plan_url(office), data=_form(office, action="find", start_time=""))
    assert found.status_code == 200, found.get_data(as_text=True)
    page = found.get_data(as_text=True)
    slots = re.findall(r'name="slot" value="([^"]+)"', page)
    assert slots and all(datetime.fromisoformat(v).date() >= office["day"] - timedelta(days=1) for v in slots)
    first = datetime.fromisoformat(slots[0]).astimezone(local(office["day"], 0).tzinfo)
    picked = client.post(_plan_url(office), data={**_form(office, start_time="", day=""), "slot": slots[0],
                                                  "action": "check"})
    assert picked.status_code == 200, picked.get_data(as_text=True)
    body = picked.get_data(as_text=True)
    assert f'value="{first.date().isoformat()}"' in body and f'value="{first.strftime("%H:%M")}"' in body
    assert _count(runtime) == 0


def test_a_withdrawn_participant_is_not_offered(client: Any, runtime: Any, office: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        s.get(Participant, office["offender"]).withdrawn_at = utcnow()
    _login(client, office["mediator"])
    page = client.get(_plan_url(office)).get_data(as_text=True)
    assert f'name="arrival_{office["offender"]}"' not in page
    assert f'/participants/{office["offender"]}/undo-withdrawal' in page


def test_a_mediator_on_someone_elses_case_gets_404_everywhere(client: Any, runtime: Any,
                                                             office: dict[str, Any]) -> None:
    with runtime.db.write_session() as s:
        req = BookingRequest(case_id=office["case"], kind="intake", mode="phone", start=local(office["day"], 14),
                             end=local(office["day"], 15), mediator_ids=(office["m1"],),
                             participant_ids=(office["victim"],))
        theirs = booking.book(s, req, None, utcnow(), policy=policy_of(runtime.settings, runtime.workdays)).id
    _login(client, office["outsider"])
    for path in (_plan_url(office), f"/meetings/{theirs}", f"/participants/{office['victim']}/withdraw",
                 f"/participants/{office['victim']}/undo-withdrawal"):
        assert client.get(path).status_code == 404, path
    assert client.post(_plan_url(office), data=_form(office)).status_code == 404
    assert client.post(f"/participants/{office['victim']}/withdraw", data={"expected": ""}).status_code == 404
    assert _count(runtime) == 1
    with runtime.db.session() as s:
        assert s.get(Participant, office["victim"]).withdrawn_at is None
    assert client.get(_plan_url(office, "other")).status_code == 200  # their own case


# --- withdrawal and undo ---------------------------------------------------------------------------

def _world_with_appointments(runtime: Any, o: dict[str, Any]) -> dict[str, int]:
    policy = policy_of(runtime.settings, runtime.workdays)
    day, later = o["day"], runtime.workdays.add_working_days(o["day"], 1)
    with runtime.db.write_session() as s:
        def book(**kw: Any) -> int:
            return booking.book(s, BookingRequest(case_id=o["case"], **kw), None, utcnow(), policy=policy).id
        intake = book(kind="intake", mode="phone", start=local(day, 9), end=local(day, 10), mediator_ids=(o["m1"],),
                      participant_ids=(o["victim"],))
        theirs = book(kind="intake", mode="phone", start=local(day, 9), end=local(day, 10), mediator_ids=(o["m2"],),
                      participant_ids=(o["offender"],))
        meeting = book(kind="meeting", mode="in_person", start=local(later, 10), end=local(later, 12),
                       mediator_ids=(o["m1"], o["m2"]), room_id=o["room"],
                       participant_ids=(o["victim"], o["offender"]),
                       arrivals={o["offender"]: local(later, 10, 15)})
    return {"intake": intake, "theirs": theirs, "meeting": meeting}


def test_the_withdrawal_page_lists_what_then_happens(client: Any, runtime: Any, office: dict[str, Any]) -> None:
    ids = _world_with_appointments(runtime, office)
    with runtime.db.session() as s:
        preview = withdrawal.plan_withdrawal(s, office["victim"], None, utcnow())
        planned = {(c.appointment.id, tuple(p.id for p in c.others), tuple(m.id for m in c.informers))
                   for c in preview.cancellations}
    assert planned == {(ids["intake"], (), ()), (ids["meeting"], (office["offender"],), (office["m1"], office["m2"]))}
    _login(client, office["mediator"])
    page = client.get(f"/participants/{office['victim']}/withdraw").get_data(as_text=True)
    assert "Deze 2 afspraken vervallen" in page
    assert "Niemand krijgt hierover automatisch bericht" in page
    assert page.count("de andere partij persoonlijk vertellen") == 2  # a task for each of the meeting's mediators
    assert EXPECTED.search(page).group(1) == preview.fingerprint
    response = client.post(f"/participants/{office['victim']}/withdraw", data={"expected": preview.fingerprint})
    assert response.status_code == 303
    with runtime.db.session() as s:
        status = {i: s.get(Appointment, i).status for i in ids.values()}
        tasks = {(t.appointment_id, t.mediator_id, t.kind) for t in s.scalars(select(MediatorTask))}
        assert s.get(Participant, office["victim"]).withdrawn_at is not None
    cancelled = {i for i, st in status.items() if st == "cancelled"}
    assert cancelled == {c for c, _, _ in planned}  # exactly the appointments the page listed
    assert status[ids["theirs"]] == "confirmed"
    assert tasks == {(a, m, "inform_other_party") for a, _, ms in planned for m in ms}
    again = client.get(f"/participants/{office['victim']}/withdraw").get_data(as_text=True)
    assert "is gestopt op" in again and f'/participants/{office["victim"]}/undo-withdrawal' in again


def test_a_withdrawal_whose_plan_changed_meanwhile_does_nothing(client: Any, runtime: Any,
                                                               office: dict[str, Any]) -> None:
    _login(client, office["mediator"])
    page = client.get(f"/participants/{office['victim']}/withdraw").get_data(as_text=True)
    shown = EXPECTED.search(page).group(1)
    assert shown == "" and "heeft geen toekomstige afspraken" in page
    _world_with_appointments(runtime, office)  # booked meanwhile
    response = client.post(f"/participants/{office['victim']}/withdraw", data={"expected": shown},
                           follow_redirects=True)
    assert "is intussen veranderd" in response.get_data(as_text=True)
    with runtime.db.session() as s:
        assert s.get(Participant, office["victim"]).withdrawn_at is None
        assert not s.scalars(select(Appointment).where(Appointment.status == "cancelled")).all()


def test_undo_says_what_stays_and_makes_the_participant_plannable_again(client: Any, runtime: Any,
                                                                       office: dict[str, Any]) -> None:
    ids = _world_with_appointments(runtime, office)
    _login(client, office["coordinator"])
    page = client.get(f"/participants/{office['victim']}/withdraw").get_data(as_text=True)
    client.post(f"/participants/{office['victim']}/withdraw", data={"expected": EXPECTED.search(page).group(1)})
    undo = client.get(f"/participants/{office['victim']}/undo-withdrawal")
    assert undo.status_code == 200
    text = undo.get_data(as_text=True)
    assert "blijven vervallen" in text and text.count("<li>") >= 4
    assert text.count("Anouk Bemiddelaar: ") == 1  # the open task of the meeting's mediator (and one of m2's)
    response = client.post(f"/participants/{office['victim']}/undo-withdrawal", data={})
    assert response.status_code == 303
    with runtime.db.session() as s:
        assert s.get(Participant, office["victim"]).withdrawn_at is None
        assert s.get(Appointment, ids["meeting"]).status == "cancelled"  # an undo revives nothing
        assert len(s.scalars(select(MediatorTask).where(MediatorTask.done_at.is_(None))).all()) == 2
    # They can be planned again, through the page.
    planned = client.post(_plan_url(office), data=_form(office, day=runtime.workdays.add_working_days(
        office["day"], 3).isoformat()))
    assert planned.status_code == 303, planned.get_data(as_text=True)
    twice = client.post(f"/participants/{office['victim']}/undo-withdrawal", data={}, follow_redirects=True)
    assert "is niet gestopt" in twice.get_data(as_text=True)


def test_withdraw_and_undo_posts_need_the_form_token(client: Any, runtime: Any, office: dict[str, Any]) -> None:
    _login(client, office["mediator"])
    assert client.raw_post(f"/participants/{office['victim']}/withdraw", data={"expected": ""}).status_code == 400
    assert client.raw_post(_plan_url(office), data=_form(office)).status_code == 400
    with runtime.db.session() as s:
        assert s.get(Participant, office["victim"]).withdrawn_at is None
    assert _count(runtime) == 0


def test_english_for_a_user_who_chose_it(client: Any, runtime: Any, office: dict[str, Any]) -> None:
    _login(client, office["coordinator"], "en", runtime)
    page = client.get(_plan_url(office)).get_data(as_text=True)
    assert '<html lang="en">' in page and "Plan a joint meeting" in page and "Gesprek" not in page
    refused = client.post(_plan_url(office), data=_form(office, **{f"arrival_{office['offender']}": "5"}))
    assert "The two parties arrive at least 15 minutes apart" in refused.get_data(as_text=True)
    assert isinstance(office["day"], date)
