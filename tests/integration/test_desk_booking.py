"""The desk's booking pages through the Flask test client, on PostgreSQL and the real clock: planning.

Plan an intake through the picker (hold → confirm → confirmed, its message in
the outbox), go back (the hold is released), a time taken meanwhile (a
sentence and fresh slots, never a 500), any free mediator of the region,
"book anyway" (a coordinator's, with a reason; a mediator's post is a 403 and
books nothing), and a pick's form value. The appointment's page, reschedule
and cancel are test_desk_appointment.py. The times are whatever the search
offers from now on, so the tests hold on any day they run.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlalchemy import event, func, select, update

from core.db import utcnow
from notifications.models import OutboxMessage
from scheduler.desk_picker import parse_slot, slot_value
from scheduler.models import Appointment, BusyBlock, Case, Reservation
from scheduler.search_region import find_region_slots
from tests.support import days
from tests.integration.desk_booking_helpers import (HOUR, _evening, appointments, book_via_service, desk,  # noqa: F401
                                                    held_id, other_time, pick, plan_url, search, sign_in, slots_of)


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


def test_slot_values_round_trip() -> None:
    start = datetime(2026, 12, 8, 9, 30, tzinfo=days.AMS)
    assert parse_slot(slot_value(start, (3, 4), 7)) == (start, (3, 4), 7)
    assert parse_slot(slot_value(start, (3,), None)) == (start, (3,), None)
    for bad in ("", "x|1|", "2026-12-08T09:30:00|1|", "2026-12-08T09:30:00+01:00||", "2026-12-08T09:30:00+01:00|0|"):
        assert parse_slot(bad) is None
