"""API models for people and places (mediators, locations, rooms), plus shared field types.

Field names are the API contract's (docs/architecture.md). Request models are strict and refuse unknown
fields (core.api.RequestModel); PATCH models mark every field MISSING by
default, so "not sent" differs from an explicit null (which only nullable
fields accept). Phone numbers are stored in E.164, e-mail addresses checked.
Ids, text and times use core.inputs' types, which state their limits in the
OpenAPI document; what only the server can judge (a number's validity,
overlapping working hours) is a 422 naming the field.
Cases and participants live in schemas_cases.py, appointments and
availability in schemas_appointments.py.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import MISSING, AfterValidator, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from core.api import QueryModel, RequestModel, ResponseModel
from core.inputs import WHOLE, Id, Int, described, single_line
from core.problems import InvalidInput
from scheduler.contact import EMAIL_PATTERN, normalize_email, normalize_phone
from scheduler.models import Location, Mediator, Room


def _phone(value: str) -> str:
    try:
        return normalize_phone(value, "phone")
    except InvalidInput as exc:
        raise PydanticCustomError("phone", exc.errors[0]["message"]) from None


def _email(value: str) -> str:
    try:
        return normalize_email(value, "email")
    except InvalidInput as exc:
        raise PydanticCustomError("email", exc.errors[0]["message"]) from None


Phone = Annotated[str, StringConstraints(max_length=40, pattern=described(r"^[0-9+ ()./-]*[0-9][0-9+ ()./-]*$",
                                                                          "is not a phone number")),
                  AfterValidator(_phone),
                  Field(description="Stored in E.164; Dutch national notation (06…) is accepted. Digits, spaces "
                                    "and + ( ) . / -; a number that is not valid (phonenumbers) is a 422",
                        examples=["+31612345678"])]
Email = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN), AfterValidator(_email),
                  Field(examples=["j.jansen@example.nl"])]
Name = single_line(200)
Address = single_line(300)
City = single_line(100)
ClockTime = Annotated[str, StringConstraints(pattern=described(r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                                              "must be a time HH:MM, 00:00 to 23:59")),
                      Field(description="Local office time, HH:MM", examples=["09:00"])]
Buffer = Annotated[int, Field(ge=0, le=240, description="Minutes kept free after each appointment"), WHOLE]
Capacity = Annotated[int, Field(ge=1, le=200), WHOLE]


class WorkingHours(RequestModel):
    """One stretch of a weekday (0 = Monday) in local office time; several per day are allowed."""

    weekday: Int = Field(ge=0, le=6)
    start: ClockTime
    end: ClockTime

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise PydanticCustomError("time_order", "must be after start")
        return end


def _no_overlap(hours: list[WorkingHours]) -> list[WorkingHours]:
    """Stretches of one weekday may touch (09:00–12:00, 12:00–17:00) but not overlap: which would count?"""
    by_day = sorted(range(len(hours)), key=lambda i: (hours[i].weekday, hours[i].start))
    for before, after in zip(by_day, by_day[1:]):
        if hours[before].weekday == hours[after].weekday and hours[after].start < hours[before].end:
            raise PydanticCustomError("overlap", "stretches {a} and {b} overlap on weekday {day}",
                                      {"a": min(before, after), "b": max(before, after),
                                       "day": hours[after].weekday})
    return hours


HoursList = Annotated[list[WorkingHours], Field(max_length=50, description="Stretches of one weekday may not overlap"),
                      AfterValidator(_no_overlap)]


class MediatorCreate(RequestModel):
    name: Name
    email: Email
    phone: Phone | None = None
    working_hours: HoursList = []
    buffer_minutes: Buffer = 0
    active: bool = True


class MediatorPatch(RequestModel):
    name: Name | MISSING = MISSING
    email: Email | MISSING = MISSING
    phone: Phone | None | MISSING = MISSING
    working_hours: HoursList | MISSING = MISSING
    buffer_minutes: Buffer | MISSING = MISSING
    active: bool | MISSING = MISSING


class MediatorOut(ResponseModel):
    id: int
    name: str
    email: str
    phone: str | None
    working_hours: list[WorkingHours]
    buffer_minutes: int
    active: bool

    @classmethod
    def of(cls, row: Mediator) -> MediatorOut:
        hours: list[Any] = list(row.working_hours or [])
        return cls(id=row.id, name=row.name, email=row.email, phone=row.phone, working_hours=hours,
                   buffer_minutes=row.buffer_minutes, active=row.active)


class MediatorList(ResponseModel):
    mediators: list[MediatorOut]


class MediatorQuery(QueryModel):
    active: bool | None = None


class LocationCreate(RequestModel):
    name: Name
    address: Address
    city: City


class LocationPatch(RequestModel):
    name: Name | MISSING = MISSING
    address: Address | MISSING = MISSING
    city: City | MISSING = MISSING


class LocationOut(ResponseModel):
    id: int
    name: str
    address: str
    city: str

    @classmethod
    def of(cls, row: Location) -> LocationOut:
        return cls(id=row.id, name=row.name, address=row.address, city=row.city)


class LocationList(ResponseModel):
    locations: list[LocationOut]


class RoomCreate(RequestModel):
    location_id: Id
    name: Name
    capacity: Capacity = 4
    separate_waiting_area: bool = False
    accessible: bool = False
    active: bool = True


class RoomPatch(RequestModel):
    location_id: Id | MISSING = MISSING
    name: Name | MISSING = MISSING
    capacity: Capacity | MISSING = MISSING
    separate_waiting_area: bool | MISSING = MISSING
    accessible: bool | MISSING = MISSING
    active: bool | MISSING = MISSING


class RoomOut(ResponseModel):
    id: int
    location_id: int
    name: str
    capacity: int
    separate_waiting_area: bool
    accessible: bool
    active: bool

    @classmethod
    def of(cls, row: Room) -> RoomOut:
        return cls(id=row.id, location_id=row.location_id, name=row.name, capacity=row.capacity,
                   separate_waiting_area=row.separate_waiting_area, accessible=row.accessible, active=row.active)


class RoomList(ResponseModel):
    rooms: list[RoomOut]


class RoomQuery(QueryModel):
    location_id: Id | None = None
    active: bool | None = None
