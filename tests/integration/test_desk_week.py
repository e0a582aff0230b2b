"""The week views through the Flask test client: who sees what, imported busy time without details, the week
argument, the chooser, printing, and the home page sending each person to their own day."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from core.db import utcnow
from scheduler.models import Appointment, BusyBlock
from scheduler.week_layout import week_code
from tests import factories as f
from tests.support.days import local, working_day

PASSWORD = "correct horse battery"
SECRET_UID = "dentist-appointment-private@example.com"


def _sign_in(client: Any, user: Any) -> Any:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _appointment(s: Any, case: Any, mediators: list[Any], start: Any, minutes: int = 60, **kw: Any) -> Appointment:
    values: dict[str, Any] = dict(case_id=case.id, kind="intake", mode="in_person", start=start,
                                  end=start + timedelta(minutes=minutes), status="confirmed")
    values.update(kw)
    row = Appointment(**values)
    row.mediators = list(mediators)
    s.add(row)
    s.flush()
    return row


@pytest.fixture
def office(database: Any) -> dict[str, Any]:
    """Two mediators with a case each, a room, and a week (two weeks ahead) with a bit of everything."""
    day = working_day(14, weekday=1)  # a Tuesday
    with database.write_session() as s:
        anouk, bram = f.mediator(s, name="Anouk de Vries"), f.mediator(s, name="Bram Jansen")
        room = f.location(s, name="Buurthuis De Linde").rooms[0]
        coordinator, _ = f.staff(s, "coordinator")
        anouk_user, _ = f.staff(s, "mediator", anouk)
        bram_user, _ = f.staff(s, "mediator", bram)
        mine, theirs = f.case(s, [anouk], reference="HB-W-0001"), f.case(s, [bram], reference="HB-W-0002")
        own = _appointment(s, mine, [anouk], local(day, 10), room_id=room.id)
        joint = _appointment(s, theirs, [bram, anouk], local(day, 14), kind="meeting", mode="video")
        other = _appointment(s, theirs, [bram], local(day + timedelta(days=1), 9), room_id=room.id, mode="home_visit")
        hold = _appointment(s, mine, [anouk], local(day + timedelta(days=2), 11), status="held",
                            hold_expires_at=utcnow() + timedelta(hours=2))
        _appointment(s, mine, [anouk], local(day + timedelta(days=2), 15), status="held",
                     hold_expires_at=utcnow() - timedelta(minutes=1))  # ran out: gone
        _appointment(s, mine, [anouk], local(day + timedelta(days=3), 9), status="cancelled",
                     cancel_reason="hold_expired")  # an expired hold: gone
        s.add(BusyBlock(source_id=7, mediator_id=anouk.id, starts_at=local(day, 12), ends_at=local(day, 13),
                        uid=SECRET_UID))
        s.add(BusyBlock(source_id=8, room_id=room.id, starts_at=local(day, 16), ends_at=local(day, 17),
                        uid=SECRET_UID))
        return dict(day=day, week=week_code(day), anouk=anouk.id, bram=bram.id, room=room.id,
                    coordinator=coordinator, anouk_user=anouk_user, bram_user=bram_user,
                    own=own.id, joint=joint.id, other=other.id, hold=hold.id)


def _items(page: str) -> list[str]:
    """Each item of the week as its text, whitespace folded (without the link to the appointment's page)."""
    found = re.findall(r'<li class="item ([a-z ]+)">(.*?)</li>', page, re.S)
    return [f"{kind}: " + " ".join(re.sub(r"<[^>]+>", " ", re.sub(r'<a class="open.*?</a>', "", body, flags=re.S))
                                   .split()) for kind, body in found]


def test_a_coordinator_sees_a_mediators_week_with_holds_and_busy_time_without_its_details(
        client: Any, office: dict[str, Any]) -> None:
    _sign_in(client, office["coordinator"])
    response = client.get(f"/mediators/{office['anouk']}/week?week={office['week']}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Week van Anouk de Vries" in page
    items = _items(page)
    assert items == [
        "appointment: 10:00–11:00 intake · op locatie HB-W-0001 " + _room_text(page),
        "busy: 12:00–13:00 bezet (geïmporteerd)",
        "appointment: 14:00–15:00 gezamenlijk gesprek · via video HB-W-0002 met Bram Jansen",
        "hold: 11:00–12:00 in optie intake · op locatie HB-W-0001",
    ]
    assert SECRET_UID not in page and "source" not in page
    # Monday to Sunday, each with its heading.
    assert len(re.findall(r'<section class="day', page)) == 7


def _room_text(page: str) -> str:
    found = re.search(r'<span class="where">([^<]+)</span>', page)
    assert found is not None
    return found.group(1)


def test_a_mediator_sees_their_own_week_and_not_another_mediators(client: Any, office: dict[str, Any]) -> None:
    _sign_in(client, office["anouk_user"])
    own = client.get(f"/week?week={office['week']}").get_data(as_text=True)
    assert "Mijn week" in own and "HB-W-0001" in own
    # The joint meeting of Bram's case: Anouk is on it but the case is not hers, so it is only "occupied".
    assert "HB-W-0002" not in own
    assert "occupied: 14:00–15:00 bezet" in _items(own)
    assert client.get(f"/mediators/{office['anouk']}/week?week={office['week']}").status_code == 200
    other = client.get(f"/mediators/{office['bram']}/week?week={office['week']}")
    assert other.status_code == 404 and "Bram" not in other.get_data(as_text=True)
    assert client.get("/mediators/999999/week").status_code == 404


def test_in_a_rooms_week_a_mediator_sees_a_colleagues_booking_only_as_occupied(client: Any,
                                                                                office: dict[str, Any]) -> None:
    _sign_in(client, office["anouk_user"])
    page = client.get(f"/rooms/{office['room']}/week?week={office['week']}").get_data(as_text=True)
    items = _items(page)
    assert items[0].startswith("appointment: 10:00–11:00 intake · op locatie HB-W-0001")
    assert "busy: 16:00–17:00 bezet (geïmporteerd)" in items
    assert "occupied: 09:00–10:00 bezet" in items
    assert "HB-W-0002" not in page and "bij iemand thuis" not in page.lower() and SECRET_UID not in page
    # The coordinator sees whose it is.
    client.post("/logout")
    _sign_in(client, office["coordinator"])
    page = client.get(f"/rooms/{office['room']}/week?week={office['week']}").get_data(as_text=True)
    assert "HB-W-0002" in page and "Bram Jansen" in page
    assert client.get("/rooms/999999/week").status_code == 404


@pytest.mark.parametrize("value", ["2026-W54", "2025-W53", "next", "2026W10", "2026-W1", "0001-W01", "%FF"])
def test_a_bad_week_is_a_400_that_says_how_to_write_one(client: Any, office: dict[str, Any], value: str) -> None:
    _sign_in(client, office["coordinator"])
    for path in ("/week", f"/mediators/{office['anouk']}/week", f"/rooms/{office['room']}/week"):
        response = client.get(f"{path}?week={value}")
        assert response.status_code == 400, path
        page = response.get_data(as_text=True)
        assert "is geen week" in page and "bijvoorbeeld" in page


def test_weeks_link_to_their_neighbours_and_the_page_prints(client: Any, office: dict[str, Any]) -> None:
    _sign_in(client, office["anouk_user"])
    page = client.get(f"/week?week={office['week']}").get_data(as_text=True)
    monday = office["day"] - timedelta(days=1)
    assert f'href="/week?week={week_code(monday - timedelta(days=7))}"' in page
    assert f'href="/week?week={week_code(monday + timedelta(days=7))}"' in page
    assert re.search(r'<link rel="stylesheet" href="[^"]*/print\.css" media="print">', page)
    assert 'class="week-chooser no-print"' in page
    # Next week holds nothing of the fixture.
    empty = client.get(f"/week?week={week_code(monday + timedelta(days=7))}").get_data(as_text=True)
    assert _items(empty) == [] and empty.count("Niets gepland") == 7


def test_the_chooser_goes_to_the_chosen_week(client: Any, office: dict[str, Any]) -> None:
    _sign_in(client, office["coordinator"])
    chooser = client.get("/week").get_data(as_text=True)  # no mediator record: choose one
    assert "Anouk de Vries" in chooser and "Buurthuis De Linde" in chooser
    response = client.get(f"/week?mediator={office['bram']}&week={office['week']}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/mediators/{office['bram']}/week?week={office['week']}"
    response = client.get(f"/week?room={office['room']}")
    assert response.headers["Location"] == f"/rooms/{office['room']}/week"
    assert client.get("/week?room=abc").status_code == 404


def test_a_week_costs_the_same_queries_however_full_it_is(client: Any, app: Any, database: Any,
                                                          office: dict[str, Any]) -> None:
    _sign_in(client, office["coordinator"])
    statements: list[str] = []
    engine = app.extensions["pendel"].db.engine

    def count(*args: Any) -> None:
        statements.append(args[2])

    def queries() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/rooms/{office['room']}/week?week={office['week']}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    before = queries()
    with database.write_session() as s:
        from scheduler.models import Case, Mediator

        mediators = [s.get(Mediator, office["anouk"]), s.get(Mediator, office["bram"])]
        for i in range(12):
            case = f.case(s, [mediators[i % 2]])
            _appointment(s, case, mediators, local(office["day"] + timedelta(days=i % 4), 8 + i % 9),
                         room_id=office["room"])
        assert s.query(Case).count() == 14
    assert queries() == before


def test_the_week_and_today_in_english_for_whoever_chose_it(client: Any, office: dict[str, Any]) -> None:
    _sign_in(client, office["coordinator"])
    assert client.post("/language", data={"language": "en", "next": "/"}).status_code == 302
    page = client.get(f"/mediators/{office['anouk']}/week?week={office['week']}").get_data(as_text=True)
    assert "Week of Anouk de Vries" in page and "busy (imported)" in page and "hold" in page
    assert "in person" in page or "at a location" in page
    assert "bezet" not in page and "Vorige week" not in page
    today = client.get("/today").get_data(as_text=True)
    assert "Callback requests per day" in today and "Room occupancy per week" in today
    assert "Terugbelverzoeken per dag" not in today
