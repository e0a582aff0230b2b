"""The API models on their own: strictness, field-named errors, normalisation, PATCH semantics."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from core.api import query_data, rfc3339, validation_problem
from scheduler.schemas import MediatorCreate, MediatorPatch, WorkingHours
from scheduler.schemas_appointments import AppointmentCreate, AppointmentQuery, AvailabilityQuery, SlotOut
from scheduler.schemas_cases import CaseCreate, ParticipantCreate

START = "2030-03-04T10:00:00+01:00"


def errors(model: type[BaseModel], body: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(json.dumps(body), strict=True)
    return validation_problem(caught.value, "body").errors


def fields(model: type[BaseModel], body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in errors(model, body)}


def appointment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"case_id": 1, "kind": "intake", "mode": "phone", "start": START,
                            "end": "2030-03-04T11:00:00+01:00", "mediator_ids": [1]}
    body.update(changes)
    return body


def test_a_valid_appointment_request_parses_with_int_keyed_arrivals() -> None:
    parsed = AppointmentCreate.model_validate_json(json.dumps(appointment(
        participant_ids=[7], arrivals={"7": "2030-03-04T10:15:00+01:00"})), strict=True)
    assert parsed.arrivals == {7: datetime(2030, 3, 4, 9, 15, tzinfo=timezone.utc)}
    assert parsed.status == "confirmed" and parsed.room_id is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"case_id": "5"}, "case_id"),
    ({"case_id": 5.0}, "case_id"),
    ({"waiting_area_override": 1}, "waiting_area_override"),
    ({"waiting_area_override": "yes"}, "waiting_area_override"),
    ({"mediator_ids": "1"}, "mediator_ids"),
    ({"mediator_ids": []}, "mediator_ids"),
    ({"start": "2030-03-04T10:00:00"}, "start"),
    ({"start": "tomorrow"}, "start"),
    ({"end": START}, "end"),
    ({"end": "2030-03-04T09:00:00+01:00"}, "end"),
    ({"end": "2030-03-04T18:01:00+01:00"}, "end"),
    ({"kind": "coffee"}, "kind"),
    ({"status": "completed"}, "status"),
    ({"extra": True}, "extra"),
])
def test_appointment_request_rejections_name_the_field(changes: dict[str, Any], field: str) -> None:
    assert field in fields(AppointmentCreate, appointment(**changes))


def test_eight_hours_exactly_is_allowed() -> None:
    parsed = AppointmentCreate.model_validate_json(json.dumps(appointment(end="2030-03-04T18:00:00+01:00")))
    assert parsed.end - parsed.start == timedelta(hours=8)


def test_end_errors_say_why() -> None:
    assert errors(AppointmentCreate, appointment(end=START)) == [{"field": "end", "message": "must be after start"}]
    too_long = errors(AppointmentCreate, appointment(end="2030-03-05T10:00:00+01:00"))
    assert too_long == [{"field": "end", "message": "an appointment lasts at most 8 hours"}]


def test_nested_errors_are_joined_with_dots() -> None:
    body = {"name": "A", "email": "a@example.org", "working_hours": [{"weekday": 7, "start": "9:00", "end": "08:00"}]}
    assert fields(MediatorCreate, body) == {"working_hours.0.weekday", "working_hours.0.start"}


def test_phone_and_email_are_normalised_or_named() -> None:
    mediator = MediatorCreate.model_validate({"name": " Noor ", "email": " noor@example.org ", "phone": "06-1234 5678"})
    assert (mediator.name, mediator.email, mediator.phone) == ("Noor", "noor@example.org", "+31612345678")
    assert errors(MediatorCreate, {"name": "A", "email": "a@b"}) == [
        {"field": "email", "message": "is not an email address"}]
    bad = errors(ParticipantCreate, {"case_id": 1, "name": "P", "role": "victim", "phone": "+3161"})
    assert [e["field"] for e in bad] == ["phone"]


def test_patch_tells_unsent_from_null() -> None:
    patch = MediatorPatch.model_validate_json('{"phone": null}')
    assert patch.model_dump() == {"phone": None}
    assert MediatorPatch.model_validate_json("{}").model_dump() == {}
    assert fields(MediatorPatch, {"name": None}) == {"name"}
    assert fields(MediatorPatch, {"active": None}) == {"active"}


def test_case_reference_is_optional_but_shaped() -> None:
    assert CaseCreate.model_validate_json('{"kind": "crime"}').reference is None
    assert fields(CaseCreate, {"kind": "crime", "reference": "no spaces please"}) == {"reference"}
    assert fields(CaseCreate, {"kind": "crime", "status": "done"}) == {"status"}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 6), st.integers(0, 23 * 60 + 59), st.integers(0, 23 * 60 + 59))
def test_working_hours_accept_exactly_the_forward_spans(weekday: int, a: int, b: int) -> None:
    start, end = f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}"
    body = json.dumps({"weekday": weekday, "start": start, "end": end})
    if a < b:
        assert WorkingHours.model_validate_json(body, strict=True).end == end
    else:
        with pytest.raises(ValidationError) as caught:
            WorkingHours.model_validate_json(body, strict=True)
        assert [e["loc"] for e in caught.value.errors()] == [("end",)]


def availability(**args: Any) -> AvailabilityQuery:
    base = {"mediator_ids": "1", "duration_minutes": "60", "from": START, "to": "2030-03-11T10:00:00+01:00"}
    base.update(args)
    return AvailabilityQuery.model_validate(query_data(AvailabilityQuery, MultiDict(list(base.items()))))


def test_query_lists_take_commas_and_repeats() -> None:
    data = query_data(AvailabilityQuery, MultiDict([("mediator_ids", "3, 4"), ("duration_minutes", "30")]))
    assert data == {"mediator_ids": ["3", "4"], "duration_minutes": "30"}
    repeated = query_data(AvailabilityQuery, MultiDict([("mediator_ids", "3"), ("mediator_ids", "4")]))
    assert repeated == {"mediator_ids": ["3", "4"]}
    assert availability(mediator_ids="1,2").mediator_ids == [1, 2]


def test_query_puts_back_a_plus_that_arrived_as_a_space() -> None:
    query = availability(**{"from": "2030-03-04T10:00:00 01:00"})
    assert query.from_ == datetime(2030, 3, 4, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("args", "field"), [
    ({"mediator_ids": "1,2,3"}, "mediator_ids"),
    ({"duration_minutes": "0"}, "duration_minutes"),
    ({"duration_minutes": "481"}, "duration_minutes"),
    ({"from": "2030-03-04T10:00:00"}, "from"),
    ({"to": START}, "to"),
    ({"to": "2030-09-02T11:00:01+02:00"}, "to"),
    ({"limit": "0"}, "limit"),
    ({"room": "1"}, "room"),
])
def test_availability_query_rejections_name_the_parameter(args: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        availability(**args)
    assert field in {e["field"].split(".")[0] for e in validation_problem(caught.value, "query").errors}


def test_twenty_six_weeks_is_the_longest_window() -> None:
    assert availability(to="2030-09-02T11:00:00+02:00").to - availability().from_ == timedelta(weeks=26)


def test_appointment_query_window_order() -> None:
    with pytest.raises(ValidationError):
        AppointmentQuery.model_validate({"from": START, "to": START})


def test_times_leave_the_api_in_utc_with_z() -> None:
    slot = SlotOut(start=datetime.fromisoformat(START), end=datetime.fromisoformat("2030-03-04T11:00:00+01:00"),
                   room_id=None)
    assert json.loads(slot.model_dump_json()) == {"start": "2030-03-04T09:00:00Z", "end": "2030-03-04T10:00:00Z",
                                                  "room_id": None}
    assert rfc3339(datetime.fromisoformat("2030-07-01T12:00:00+02:00")) == "2030-07-01T10:00:00Z"
