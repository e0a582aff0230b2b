"""Mediators, locations and rooms: every staff member reads, the office (admin, coordinator) writes."""
from __future__ import annotations

from flask import Response, url_for
from sqlalchemy import select

from core.api import registry, respond
from core.problems import NotFound
from core.runtime import db_session
from scheduler import people
from scheduler.api import OFFICE, STAFF, api_bp, writing
from scheduler.models import Location, Mediator, Room
from scheduler.schemas import (LocationCreate, LocationList, LocationOut, LocationPatch, MediatorCreate,
                               MediatorList, MediatorOut, MediatorPatch, MediatorQuery, RoomCreate, RoomList,
                               RoomOut, RoomPatch, RoomQuery)

route = registry.route


def _one(model: type[Mediator] | type[Location] | type[Room], row_id: int, what: str):  # type: ignore[no-untyped-def]
    row = db_session().get(model, row_id)
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row


@route(api_bp, "GET", "/mediators", summary="List mediators", tag="mediators", roles=STAFF,
       query=MediatorQuery, response=MediatorList)
def list_mediators(query: MediatorQuery) -> Response:
    stmt = select(Mediator).order_by(Mediator.id)
    if query.active is not None:
        stmt = stmt.where(Mediator.active.is_(query.active))
    return respond(MediatorList(mediators=[MediatorOut.of(m) for m in db_session().scalars(stmt)]))


@route(api_bp, "GET", "/mediators/<int:mediator_id>", summary="Get a mediator", tag="mediators", roles=STAFF,
       response=MediatorOut)
def get_mediator(mediator_id: int) -> Response:
    return respond(MediatorOut.of(_one(Mediator, mediator_id, "mediator")))


@route(api_bp, "POST", "/mediators", summary="Add a mediator", tag="mediators", roles=OFFICE,
       body=MediatorCreate, response=MediatorOut, status=201)
def create_mediator(body: MediatorCreate) -> Response:
    with writing() as (session, actor):
        out = MediatorOut.of(people.create_mediator(session, actor, body.model_dump()))
    return respond(out, 201, {"Location": url_for(".get_mediator", mediator_id=out.id)})


@route(api_bp, "PATCH", "/mediators/<int:mediator_id>", summary="Change a mediator", tag="mediators",
       roles=OFFICE, body=MediatorPatch, response=MediatorOut)
def patch_mediator(mediator_id: int, body: MediatorPatch) -> Response:
    """Only the fields sent change; `phone: null` removes the number."""
    with writing() as (session, actor):
        out = MediatorOut.of(people.update_mediator(session, actor, mediator_id, body.model_dump()))
    return respond(out)


@route(api_bp, "GET", "/locations", summary="List locations", tag="locations", roles=STAFF, response=LocationList)
def list_locations() -> Response:
    rows = db_session().scalars(select(Location).order_by(Location.id))
    return respond(LocationList(locations=[LocationOut.of(r) for r in rows]))


@route(api_bp, "GET", "/locations/<int:location_id>", summary="Get a location", tag="locations", roles=STAFF,
       response=LocationOut)
def get_location(location_id: int) -> Response:
    return respond(LocationOut.of(_one(Location, location_id, "location")))


@route(api_bp, "POST", "/locations", summary="Add a location", tag="locations", roles=OFFICE,
       body=LocationCreate, response=LocationOut, status=201)
def create_location(body: LocationCreate) -> Response:
    with writing() as (session, actor):
        out = LocationOut.of(people.create_location(session, actor, body.model_dump()))
    return respond(out, 201, {"Location": url_for(".get_location", location_id=out.id)})


@route(api_bp, "PATCH", "/locations/<int:location_id>", summary="Change a location", tag="locations",
       roles=OFFICE, body=LocationPatch, response=LocationOut)
def patch_location(location_id: int, body: LocationPatch) -> Response:
    with writing() as (session, actor):
        out = LocationOut.of(people.update_location(session, actor, location_id, body.model_dump()))
    return respond(out)


@route(api_bp, "GET", "/rooms", summary="List rooms", tag="rooms", roles=STAFF, query=RoomQuery,
       response=RoomList)
def list_rooms(query: RoomQuery) -> Response:
    stmt = select(Room).order_by(Room.id)
    if query.location_id is not None:
        stmt = stmt.where(Room.location_id == query.location_id)
    if query.active is not None:
        stmt = stmt.where(Room.active.is_(query.active))
    return respond(RoomList(rooms=[RoomOut.of(r) for r in db_session().scalars(stmt)]))


@route(api_bp, "GET", "/rooms/<int:room_id>", summary="Get a room", tag="rooms", roles=STAFF, response=RoomOut)
def get_room(room_id: int) -> Response:
    return respond(RoomOut.of(_one(Room, room_id, "room")))


@route(api_bp, "POST", "/rooms", summary="Add a room", tag="rooms", roles=OFFICE, body=RoomCreate,
       response=RoomOut, status=201)
def create_room(body: RoomCreate) -> Response:
    with writing() as (session, actor):
        out = RoomOut.of(people.create_room(session, actor, body.model_dump()))
    return respond(out, 201, {"Location": url_for(".get_room", room_id=out.id)})


@route(api_bp, "PATCH", "/rooms/<int:room_id>", summary="Change a room", tag="rooms", roles=OFFICE,
       body=RoomPatch, response=RoomOut)
def patch_room(room_id: int, body: RoomPatch) -> Response:
    with writing() as (session, actor):
        out = RoomOut.of(people.update_room(session, actor, room_id, body.model_dump()))
    return respond(out)
