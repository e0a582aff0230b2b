"""The desk's booking pages through the Flask test client, on PostgreSQL and the real clock.

Plan an intake through the picker (hold → confirm → confirmed, its message in
the outbox), go back (the hold is released), a time taken meanwhile (a
sentence and fresh slots, never a 500), any free mediator of the region,
"book anyway" (a coordinator's, with a reason; a mediator's post is a 403 and
books nothing), reschedule and cancel with a reason, the appointment's page,
a mediator on someone else's case (404 everywhere), and invalid input that
changes nothing. The times are whatever the search offers from now on, so
the tests hold on any day they run.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import event, func, select, update

from core.db import utcnow
from notifications.models import OutboxMessage
from scheduler import booking
from scheduler.desk_booking import parse_slot, slot_value
from scheduler.models import Appointment, BusyBlock, Case, Region, Reservation
from scheduler.policy import policy_of
from scheduler.rules import BookingRequest
from scheduler.search_region import find_region_slots
from tests import factories as f
from tests.support import days

PASSWORD = "correct horse battery"
SLOT = re.compile(r'name="slot" value="([^"]+)"')
HOUR = timedelta(hours=1)


@pytest.fixture
def desk(runtime: Any) -> dict[str, Any]:
    """Region Utrecht with Anna (on the case) and Bram; Carla elsewhere with a case of her own; one location."""
    with runtime.db.write_session() as s:
        utrecht, elsewhere = Region(name="Utrecht"), Region(name="Zwolle")
        s.add_all([utrecht, elsewhere])
        s.flush()
        anna = f.mediator(s, name="Anna Bakker", video_url="https://meet.example.org/anna")
        bram = f.mediator(s, name="Bram de Vries")
        carla = f.mediator(s, name="Carla Smit")
        anna.region, bram.region, carla.region = utrecht, utrecht, elsewhere
        case = f.case(s, [anna])
        case.region = utrecht
        theirs = f.case(s, [carla])
        location = f.location(s, rooms=2, name="Huis van de Wijk")
        coordinator, _ = f.staff(s, "coordinator")
        mediator, _ = f.staff(s, "mediator", anna)
        outsider, _ = f.staff(s, "mediator", carla)
        return {"anna": anna.id, "bram": bram.id, "carla": carla.id, "case": case.id, "theirs": theirs.id,
                "people": [p.id for p in case.participants], "region": utrecht.id, "location": location.id,
                "rooms": [r.id for r in location.rooms], "coordinator": coordinator.email,
                "mediator": mediator.email, "outsider": outsider.email}


def sign_in(client: Any, email: str) -> Any:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def slots_of(html: str) -> list[str]:
    return SLOT.findall(html)


def search(desk: dict[str, Any], **kw: Any) -> dict[str, str]:
    values = {"mode": "phone", "duration": "60", "mediator": str(desk["anna"]), "participant_id": str(desk["people"][0])}
    values.update({k: str(v) for k, v in kw.items()})
    return values


def plan_url(desk: dict[str, Any]) -> str:
    return f"/cases/{desk['case']}/intake"


def appointments(runtime: Any) -> list[Appointment]:
    with runtime.db.session() as s:
        rows = list(s.scalars(select(Appointment).order_by(Appointment.id)))
        for row in rows:
            _ = row.mediators, row.attendances
        s.expunge_all()
        return rows


def held_id(response: Any) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    match = re.match(r"/appointments/(\d+)/held", urlsplit(response.headers["Location"]).path)
    assert match, response.headers["Location"]
    return int(match.group(1))


def pick(client: Any, desk: dict[str, Any], slot: str, **kw: Any) -> Any:
    return client.post(plan_url(desk), data={**search(desk, **kw), "action": "pick", "slot": slot})


def book_via_service(runtime: Any, desk: dict[str, Any], slot: str, minutes: int = 60, **kw: Any) -> int:
    start, mediator_ids, room_id = parse_slot(slot)  # type: ignore[misc]
    values: dict[str, Any] = dict(case_id=desk["case"], kind="intake", mode="phone", start=start,
                                  end=start + timedelta(minutes=minutes), mediator_ids=mediator_ids,
                                  participant_ids=(desk["people"][1],))
    values.update(kw)
    with runtime.db.write_session() as s:
        return booking.book(s, BookingRequest(**values), None, utcnow(),
                            policy=policy_of(runtime.settings, runtime.workdays)).id


# --- plan an intake ------------------------------------------------------------------------------

def test_plan_an_intake_through_the_picker(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    page = client.get(f"{plan_url(desk)}?participant_id={desk['people'][1]}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Anna Bakker" in html and f'<option value="{desk["people"][1]}" selected>' in html
    assert f'<option value="{desk["anna"]}" selected>' in html  # the case's mediator, preselected
    first = slots_of(html)[0]

    picked = pick(client, desk, first, participant_id=desk["people"][1])
    held = held_id(picked)
    [row] = appointments(runtime)
    assert row.id == held and row.status == "held" and row.kind == "intake" and row.mode == "phone"
    assert [a.participant_id for a in row.attendances] == [desk["people"][1]]
    confirm_page = client.get(picked.headers["Location"])
    assert confirm_page.status_code == 200
    assert "Bevestigen en boeken" in confirm_page.get_data(as_text=True)

    done = client.post(f"/appointments/{held}/confirm", data={"back": plan_url(desk)})
    assert done.status_code == 303 and done.headers["Location"] == f"/appointments/{held}"
    [row] = appointments(runtime)
    assert row.status == "confirmed"
    with runtime.db.session() as s:
        messages = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.appointment_id == held, OutboxMessage.recipient_kind == "participant",
            OutboxMessage.participant_id == desk["people"][1])) or 0
    assert messages >= 1  # the participant's confirmation waits in the outbox
    shown = client.get(f"/appointments/{held}").get_data(as_text=True)
    assert "bevestigd" in shown and "Anna Bakker" in shown


def test_back_releases_the_hold_and_the_time_is_free_again(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk))}").get_data(as_text=True))[0]
    held = held_id(pick(client, desk, first))
    assert first not in slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk))}").get_data(as_text=True))
    back = client.post(f"/appointments/{held}/release", data={"back": f"{plan_url(desk)}?{urlencode(search(desk))}"})
    assert back.status_code == 303 and back.headers["Location"].startswith(plan_url(desk))
    assert appointments(runtime)[0].status == "cancelled"
    assert first in slots_of(client.get(back.headers["Location"]).get_data(as_text=True))


def test_a_slot_taken_before_the_pick_gives_a_sentence_and_fresh_slots(client: Any, runtime: Any,
                                                                        desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk))}").get_data(as_text=True))[0]
    taken = book_via_service(runtime, desk, first)  # someone else, between seeing and picking
    response = pick(client, desk, first)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and "Anna Bakker" in html and "net bezet" in html
    fresh = slots_of(html)
    assert fresh and first not in fresh
    assert [a.id for a in appointments(runtime)] == [taken]


def test_a_hold_run_out_and_taken_before_the_confirmation_gives_fresh_slots(client: Any, runtime: Any,
                                                                            desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk))}").get_data(as_text=True))[0]
    held = held_id(pick(client, desk, first))
    with runtime.db.write_session() as s:  # the hold runs out while the page is open...
        past = utcnow() - timedelta(minutes=1)
        s.execute(update(Appointment).where(Appointment.id == held).values(hold_expires_at=past))
        s.execute(update(Reservation).where(Reservation.appointment_id == held).values(expires_at=past))
    taken = book_via_service(runtime, desk, first)  # ... and someone books the same time
    back = f"{plan_url(desk)}?{urlencode(search(desk))}"
    response = client.post(f"/appointments/{held}/confirm", data={"back": back})
    assert response.status_code == 303 and response.headers["Location"] == back
    page = client.get(back)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "flash-warning" in html and first not in slots_of(html) and slots_of(html)
    statuses = {a.id: a.status for a in appointments(runtime)}
    assert statuses == {held: "cancelled", taken: "confirmed"}


def test_busy_time_arriving_before_the_confirmation_releases_the_hold(client: Any, runtime: Any,
                                                                       desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk))}").get_data(as_text=True))[0]
    held = held_id(pick(client, desk, first))
    start = parse_slot(first)[0]  # type: ignore[index]
    with runtime.db.write_session() as s:  # Anna's own calendar syncs a private appointment in
        s.add(BusyBlock(source_id=1, mediator_id=desk["anna"], starts_at=start, ends_at=start + HOUR, uid="x"))
    response = client.post(f"/appointments/{held}/confirm", data={"back": plan_url(desk)}, follow_redirects=True)
    assert response.status_code == 200
    assert first not in slots_of(response.get_data(as_text=True))
    assert appointments(runtime)[0].status == "cancelled"


# --- any free mediator of the region -------------------------------------------------------------

def test_region_search_ranks_and_reads_busy_rows_once(runtime: Any, desk: dict[str, Any]) -> None:
    start = days.working_day_at(9, days_ahead=7, calendar=runtime.workdays)
    with runtime.db.write_session() as s:  # Anna's week is fuller: at a time both are free, Bram comes first
        s.add(BusyBlock(source_id=1, mediator_id=desk["anna"], starts_at=start + 6 * HOUR,
                        ends_at=start + 8 * HOUR, uid="x"))
    settings = runtime.settings
    statements: list[str] = []
    with runtime.db.session() as s:
        listen = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(s.get_bind(), "before_cursor_execute", listen)
        try:
            found = find_region_slots(s, None, region_id=desk["region"], room_id=None, location_id=None,
                                      duration=HOUR, start=start, end=start + 8 * HOUR, now=utcnow(),
                                      workdays=runtime.workdays, tz=settings.tz, grid=timedelta(minutes=30),
                                      min_notice=timedelta(minutes=60), limit=20)
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listen)
    assert len(statements) == 3  # the region, its active mediators, the busy rows of all of them
    assert found[0].start == start and {s.mediator_id for s in found} == {desk["bram"]}
    assert [s.start for s in found] == sorted({s.start for s in found})  # one slot per start time
    assert desk["carla"] not in {s.mediator_id for s in found}  # another region's mediator never


def test_any_free_mediator_joins_the_case_when_booked_and_leaves_on_back(client: Any, runtime: Any,
                                                                         desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    first_anna = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk))}").get_data(as_text=True))[0]
    book_via_service(runtime, desk, first_anna, minutes=4 * 60)  # Anna's week is now the fuller one
    region = search(desk, mediator="region")
    html = client.get(f"{plan_url(desk)}?{urlencode(region)}").get_data(as_text=True)
    assert "Elke vrije bemiddelaar van regio Utrecht" in html
    picks = slots_of(html)
    bram_first = next(p for p in picks if parse_slot(p)[1] == (desk["bram"],))  # type: ignore[index]
    assert "Bram de Vries" in html
    picked = pick(client, desk, bram_first, mediator="region")
    held = held_id(picked)
    assert _case_mediators(runtime, desk) == {desk["anna"], desk["bram"]}  # Bram joins the case for the hold
    query = parse_qs(urlsplit(picked.headers["Location"]).query)
    assert query["joined"] == [str(desk["bram"])]
    client.post(f"/appointments/{held}/release", data={"back": plan_url(desk), "joined": query["joined"][0]})
    assert _case_mediators(runtime, desk) == {desk["anna"]}  # ... and leaves it with the hold
    again = held_id(pick(client, desk, bram_first, mediator="region"))
    assert client.post(f"/appointments/{again}/confirm", data={}).status_code == 303
    assert _case_mediators(runtime, desk) == {desk["anna"], desk["bram"]}
    assert [m.id for m in appointments(runtime)[-1].mediators] == [desk["bram"]]


def _case_mediators(runtime: Any, desk: dict[str, Any]) -> set[int]:
    with runtime.db.session() as s:
        case = s.get(Case, desk["case"])
        return {m.id for m in case.mediators}


def test_a_mediator_is_offered_neither_the_region_nor_book_anyway(client: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["mediator"])
    html = client.get(plan_url(desk)).get_data(as_text=True)
    assert slots_of(html)
    assert 'value="region"' not in html and 'name="anyway"' not in html and "Bram de Vries" not in html


# --- book anyway ---------------------------------------------------------------------------------

def _evening(runtime: Any) -> datetime:
    return days.working_day_at(19, days_ahead=10, calendar=runtime.workdays)


def other_time(desk: dict[str, Any], start: datetime, **kw: Any) -> dict[str, str]:
    return {**search(desk), "action": "other", "day": start.date().isoformat(), "at": start.strftime("%H:%M"),
            **{k: str(v) for k, v in kw.items()}}


def test_a_coordinator_books_anyway_outside_working_hours_with_a_reason(client: Any, runtime: Any,
                                                                        desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    evening = _evening(runtime)
    refused = client.post(plan_url(desk), data=other_time(desk, evening))
    assert refused.status_code == 422
    assert 'id="at-error"' in refused.get_data(as_text=True) and appointments(runtime) == []
    no_reason = client.post(plan_url(desk), data=other_time(desk, evening, anyway="y"))
    assert no_reason.status_code == 400 and 'id="reason-error"' in no_reason.get_data(as_text=True)
    assert appointments(runtime) == []
    held = held_id(client.post(plan_url(desk), data=other_time(desk, evening, anyway="y", reason="urgent")))
    assert client.post(f"/appointments/{held}/confirm", data={}).status_code == 303
    [row] = appointments(runtime)
    assert row.status == "confirmed" and row.outside_hours_reason == "urgent" and row.busy_time_reason is None
    page = client.get(f"/appointments/{held}").get_data(as_text=True)
    assert "Toch geboekt" in page and "buiten de kantoortijden" in page and "spoed" in page


def test_a_coordinator_books_anyway_in_imported_busy_time(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    start = days.working_day_at(11, days_ahead=10, calendar=runtime.workdays)
    with runtime.db.write_session() as s:
        s.add(BusyBlock(source_id=1, mediator_id=desk["anna"], starts_at=start, ends_at=start + HOUR, uid="x"))
    sign_in(client, desk["coordinator"])
    taken = client.post(plan_url(desk), data=other_time(desk, start))
    assert taken.status_code == 409 and appointments(runtime) == []
    held = held_id(client.post(plan_url(desk), data=other_time(desk, start, anyway="y", reason="mediator_agreed")))
    assert client.post(f"/appointments/{held}/confirm", data={}).status_code == 303
    [row] = appointments(runtime)
    assert row.status == "confirmed" and row.busy_time_reason == "mediator_agreed"


def test_a_mediator_posting_book_anyway_gets_403_and_nothing_is_booked(client: Any, runtime: Any,
                                                                       desk: dict[str, Any]) -> None:
    sign_in(client, desk["mediator"])
    response = client.post(plan_url(desk), data=other_time(desk, _evening(runtime), anyway="y", reason="urgent"))
    assert response.status_code == 403
    assert appointments(runtime) == []


# --- the appointment, reschedule, cancel ---------------------------------------------------------

@pytest.fixture
def booked(client: Any, runtime: Any, desk: dict[str, Any]) -> int:
    sign_in(client, desk["coordinator"])
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk, mode='video'))}").get_data(as_text=True))[0]
    held = held_id(pick(client, desk, first, mode="video"))
    assert client.post(f"/appointments/{held}/confirm", data={}).status_code == 303
    return held


def test_the_appointment_page_shows_what_there_is_to_know(client: Any, booked: int) -> None:
    html = client.get(f"/appointments/{booked}").get_data(as_text=True)
    assert "via video" in html and "https://meet.example.org/anna" in html  # the mediator's standing link
    assert f'href="/appointments/{booked}/reschedule"' in html and f'href="/appointments/{booked}/cancel"' in html


def test_a_video_link_of_its_own_and_a_bad_one(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    link = "https://video.example.org/intake-7"
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk, mode='video'))}").get_data(as_text=True))[0]
    bad = pick(client, desk, first, mode="video", video_url="http://video.example.org/x")
    assert bad.status_code == 400 and 'id="video_url-error"' in bad.get_data(as_text=True)
    assert appointments(runtime) == []
    held = held_id(pick(client, desk, first, mode="video", video_url=link))
    client.post(f"/appointments/{held}/confirm", data={})
    assert appointments(runtime)[0].video_url == link
    assert link in client.get(f"/appointments/{held}").get_data(as_text=True)


def test_reschedule_through_the_same_picker(client: Any, runtime: Any, desk: dict[str, Any], booked: int) -> None:
    before = appointments(runtime)[0]
    page = client.get(f"/appointments/{booked}/reschedule")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    target = slots_of(html)[-1]
    values = {"mode": "video", "duration": "60", "video_url": ""}
    confirm_page = client.post(f"/appointments/{booked}/reschedule", data={**values, "action": "pick",
                                                                           "slot": target})
    assert confirm_page.status_code == 200 and appointments(runtime)[0].start == before.start
    moved = client.post(f"/appointments/{booked}/reschedule", data={**values, "action": "move", "slot": target})
    assert moved.status_code == 303 and moved.headers["Location"] == f"/appointments/{booked}"
    after = appointments(runtime)[0]
    assert after.start == parse_slot(target)[0] and after.version == before.version + 1  # type: ignore[index]


def test_reschedule_to_a_time_taken_meanwhile_says_so(client: Any, runtime: Any, desk: dict[str, Any],
                                                      booked: int) -> None:
    target = slots_of(client.get(f"/appointments/{booked}/reschedule").get_data(as_text=True))[-1]
    book_via_service(runtime, desk, target)
    before = appointments(runtime)[0]
    response = client.post(f"/appointments/{booked}/reschedule",
                           data={"mode": "video", "duration": "60", "action": "move", "slot": target})
    assert response.status_code == 409 and "net bezet" in response.get_data(as_text=True)
    assert appointments(runtime)[0].start == before.start


def test_cancel_with_a_reason(client: Any, runtime: Any, booked: int) -> None:
    page = client.get(f"/appointments/{booked}/cancel")
    assert page.status_code == 200 and "op verzoek van de deelnemer" in page.get_data(as_text=True)
    bad = client.post(f"/appointments/{booked}/cancel", data={"reason": "because"})
    assert bad.status_code == 400 and appointments(runtime)[0].status == "confirmed"
    done = client.post(f"/appointments/{booked}/cancel", data={"reason": "mediator_unavailable"})
    assert done.status_code == 303
    row = appointments(runtime)[0]
    assert row.status == "cancelled" and row.cancel_reason == "mediator_unavailable"
    assert "bemiddelaar niet beschikbaar" in client.get(f"/appointments/{booked}").get_data(as_text=True)


# --- sight, and input that changes nothing -------------------------------------------------------

def test_a_mediator_on_someone_elses_case_gets_404_everywhere(client: Any, runtime: Any, desk: dict[str, Any],
                                                              booked: int) -> None:
    client.post("/logout", data={})
    sign_in(client, desk["outsider"])
    for path in (plan_url(desk), f"/appointments/{booked}", f"/appointments/{booked}/reschedule",
                 f"/appointments/{booked}/cancel", f"/appointments/{booked}/held"):
        assert client.get(path).status_code == 404, path
    for path in (plan_url(desk), f"/appointments/{booked}/cancel", f"/appointments/{booked}/confirm",
                 f"/appointments/{booked}/release", f"/appointments/{booked}/reschedule"):
        assert client.post(path, data={"reason": "other", "action": "move"}).status_code == 404, path
    assert appointments(runtime)[0].status == "confirmed"


def test_invalid_input_changes_nothing(client: Any, runtime: Any, desk: dict[str, Any]) -> None:
    sign_in(client, desk["coordinator"])
    bad_duration = client.get(f"{plan_url(desk)}?{urlencode(search(desk, duration=7))}")
    assert bad_duration.status_code == 400 and 'id="duration-error"' in bad_duration.get_data(as_text=True)
    first = slots_of(client.get(f"{plan_url(desk)}?{urlencode(search(desk))}").get_data(as_text=True))[0]
    assert pick(client, desk, first, duration=7).status_code == 400
    assert pick(client, desk, "not a slot").status_code == 400
    assert pick(client, desk, first, mode="in_person").status_code == 400  # no location chosen
    assert client.raw_post(plan_url(desk), data={**search(desk), "action": "pick", "slot": first}).status_code == 400
    far = pick(client, desk, "9999-12-31T23:00:00+00:00|%d|" % desk["anna"])
    assert far.status_code == 400
    past = client.post(plan_url(desk), data={**search(desk), "action": "other", "day": "2020-01-06", "at": "10:00"})
    assert past.status_code == 400 and 'id="day-error"' in past.get_data(as_text=True)
    assert client.get(f"{plan_url(desk)}?{urlencode(search(desk, after='9999-12-31T00:00:00+00:00'))}").status_code == 200
    assert appointments(runtime) == []


def test_slot_values_round_trip() -> None:
    start = datetime(2026, 12, 8, 9, 30, tzinfo=days.AMS)
    assert parse_slot(slot_value(start, (3, 4), 7)) == (start, (3, 4), 7)
    assert parse_slot(slot_value(start, (3,), None)) == (start, (3,), None)
    for bad in ("", "x|1|", "2026-12-08T09:30:00|1|", "2026-12-08T09:30:00+01:00||", "2026-12-08T09:30:00+01:00|0|"):
        assert parse_slot(bad) is None


def test_the_mediator_sees_and_moves_their_own_appointment(client: Any, runtime: Any, desk: dict[str, Any],
                                                           booked: int) -> None:
    client.post("/logout", data={})
    sign_in(client, desk["mediator"])
    assert client.get(f"/appointments/{booked}").status_code == 200
    page = client.get(f"/appointments/{booked}/reschedule").get_data(as_text=True)
    assert slots_of(page) and 'name="anyway"' not in page
    evening = _evening(runtime)
    refused = client.post(f"/appointments/{booked}/reschedule", data={
        "mode": "video", "duration": "60", "action": "other", "day": evening.date().isoformat(),
        "at": evening.strftime("%H:%M"), "anyway": "y", "reason": "urgent"})
    assert refused.status_code == 403
    assert appointments(runtime)[0].outside_hours_reason is None


def test_a_coordinator_moves_anyway_to_an_evening(client: Any, runtime: Any, desk: dict[str, Any], booked: int) -> None:
    evening = _evening(runtime)
    values = {"mode": "video", "duration": "60", "action": "other", "day": evening.date().isoformat(),
              "at": evening.strftime("%H:%M")}
    assert client.post(f"/appointments/{booked}/reschedule", data=values).status_code == 422
    moved = client.post(f"/appointments/{booked}/reschedule", data={**values, "anyway": "y", "reason": "accessibility"})
    assert moved.status_code == 303
    row = appointments(runtime)[0]
    assert row.start == evening and row.outside_hours_reason == "accessibility"
