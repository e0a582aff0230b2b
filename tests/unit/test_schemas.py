"""The API models on their own: strictness, field-named errors, normalisation, PATCH semantics."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError
from werkzeug.datastructures import MultiDict

from core.api import query_data, rfc3339, too_deep, validation_problem
from core.inputs import VISIBLE_LINE, Id, Time, by_id, multi_line, single_line
from scheduler.contact import EMAIL_PATTERN
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
    ({"case_id": 5.5}, "case_id"),  # 5.0 is 5: JSON Schema counts it an integer
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


# Issue 11: the shared input types of core.inputs, each refusing what used to reach the database.

@pytest.mark.parametrize(("raw", "deep"), [
    (b"[" * 33 + b"]" * 33, True),
    (b"[" * 32 + b"]" * 32, False),
    (b'{"a": "' + b"[" * 100 + b'"}', False),                      # brackets inside a string do not nest
    (b'{"a": "\\"' + b"{" * 100 + b'\\""}', False),                # nor after an escaped quote
    (b'{"a": [' * 20 + b"1" + b"]}" * 20, True),
    (b"[" * 100_000, True),
])
def test_json_depth_is_counted_before_parsing(raw: bytes, deep: bool) -> None:
    assert too_deep(raw) is deep


class Times(BaseModel):
    at: Time


@pytest.mark.parametrize("text", ["2030-03-04T10:00:00Z", "2030-03-04T10:00:00+01:00", "2030-03-04T10:00:00.5-05:30",
                                  "1900-01-01T00:00:00+14:00", "2999-12-31T23:59:59.999999-12:00"])
def test_times_in_rfc_3339_are_taken_in_utc(text: str) -> None:
    at = Times.model_validate_json(json.dumps({"at": text}), strict=True).at
    assert at.utcoffset() == timedelta(0) and at == datetime.fromisoformat(text)


@pytest.mark.parametrize("value", [0.5, 1700000000, "0.5", "2030-03-04", "2030-03-04T10:00", "2030-03-04T10:00:00",
                                   "2030-03-04 10:00:00Z", "9999-12-31T23:30:00-05:00", "0001-01-01T00:30:00+01:00",
                                   "3000-01-01T00:00:00Z", "2030-02-30T10:00:00Z", "2030-03-04T10:00:00+24:00",
                                   "2030-03-04T10:00:00z", "2030-03-04T10:00:00.1234567Z", "٢٠٣٠-03-04T10:00:00Z"])
def test_anything_else_is_not_a_time(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        Times.model_validate_json(json.dumps({"at": value}), strict=True)
    assert [e["loc"] for e in caught.value.errors()] == [("at",)]
    with pytest.raises(ValidationError):  # a query (lax) neither
        Times.model_validate({"at": str(value)})


class Texts(BaseModel):
    model_config = ConfigDict(strict=True)
    name: single_line(10)  # type: ignore[valid-type]
    label: single_line(10, required=False)  # type: ignore[valid-type]
    body: multi_line(50) = ""  # type: ignore[valid-type]


@pytest.mark.parametrize(("field", "value"), [
    ("name", "a\x00b"), ("name", "a\nb"), ("name", "a\rb"), ("name", "\na"), ("name", "a\tb"), ("name", "a\u2028b"),
    ("name", "a\x85b"), ("name", "   "), ("name", ""), ("name", " " + "x" * 10), ("label", "x\n"),
    ("label", "x" * 11), ("body", "x\x00"),
])
def test_text_refuses_nul_line_breaks_blanks_and_overlong(field: str, value: str) -> None:
    body = {"name": "n", "label": "", field: value}
    with pytest.raises(ValidationError) as caught:
        Texts.model_validate_json(json.dumps(body))
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]


def test_text_is_stripped_after_its_checks_and_keeps_inner_lines_where_allowed() -> None:
    texts = Texts.model_validate_json(json.dumps({"name": " " + "x" * 8 + " ", "label": "  ", "body": "a\r\nb"}))
    assert (texts.name, texts.label, texts.body) == ("x" * 8, "", "a\r\nb")


class Ids(BaseModel):
    model_config = ConfigDict(strict=True)
    one: Id
    many: list[Id] = []
    keyed: by_id(int) = {}  # type: ignore[valid-type]


def test_ids_are_bounded_and_whole() -> None:
    assert Ids.model_validate_json('{"one": 2.0, "many": [1, 7.0], "keyed": {"7": 1}}').model_dump() == {
        "one": 2, "many": [1, 7], "keyed": {7: 1}}
    for body in ('{"one": 0}', '{"one": 2147483648}', '{"one": 2.5}', '{"one": "2"}', '{"one": true}',
                 '{"one": 1e300}', '{"one": 1, "many": [-1]}', '{"one": 1, "keyed": {"07": 1}}',
                 '{"one": 1, "keyed": {"x": 1}}', '{"one": 1, "keyed": {"2147483648": 1}}'):
        with pytest.raises(ValidationError):
            Ids.model_validate_json(body)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 12), st.integers(1, 6)), max_size=5))
def test_working_hours_refuse_exactly_the_overlapping_stretches(spans: list[tuple[int, int, int]]) -> None:
    hours = [{"weekday": day, "start": f"{start:02d}:00", "end": f"{start + length:02d}:00"}
             for day, start, length in spans]
    overlapping = any(a[0] == b[0] and a[1] < b[1] + b[2] and b[1] < a[1] + a[2]
                      for i, a in enumerate(spans) for b in spans[i + 1:])
    body = json.dumps({"name": "A", "email": "a@example.org", "working_hours": hours})
    if overlapping:
        assert fields(MediatorCreate, json.loads(body)) == {"working_hours"}
    else:
        assert len(MediatorCreate.model_validate_json(body, strict=True).working_hours) == len(spans)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda e: len(e) <= 254),
       st.from_regex(VISIBLE_LINE, fullmatch=True).filter(lambda n: len(n) <= 200))
def test_what_the_document_allows_the_models_accept(email: str, name: str) -> None:
    """Email and names drawn from the documented patterns pass validation (no undocumented refusal)."""
    mediator = MediatorCreate.model_validate_json(json.dumps({"name": name, "email": email}), strict=True)
    assert len(mediator.name) <= 200 and mediator.email == email.strip(" ")
