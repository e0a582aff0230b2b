"""Issue and revoke calendar feed URLs: /api/v1/mediators/<id>/feed-token and /api/v1/rooms/<id>/feed-token.

POST issues a new token and answers with the full feed URL, once: only the
token's hash is stored, so it cannot be shown again. Issuing again is the
rotation: the previous URL stops working at once (404). DELETE revokes
without a replacement (a lost phone, a mediator who leaves).

Who: the office (admin, coordinator) for every mediator and room; a mediator
for their own calendar only, since the feed lists every case they work on and
the opt-in to participant names is theirs to make. Mediators are visible to
all staff (GET /mediators), so someone else's id is a 403, not a 404.
"""
from __future__ import annotations

from flask import Blueprint, Response
from pydantic import Field
from sqlalchemy.orm import Session

from calendars.feeds import issue_feed_token, revoke_feed_tokens
from core import audit
from core.api import RequestModel, ResponseModel, registry, respond
from core.models import User
from core.problems import Forbidden, NotFound
from core.runtime import current
from scheduler.access import own_mediator_id
from scheduler.api import OFFICE, STAFF, writing
from scheduler.models import Mediator, Room

feeds_api_bp = Blueprint("feeds_api", __name__)
route = registry.route


class MediatorFeedTokenCreate(RequestModel):
    include_names: bool = Field(False, description="Put the participants' names in each event's description "
                                                   "(the mediator's own opt-in; off by default)")


class RoomFeedTokenCreate(RequestModel):
    """No options: a room's feed never carries names."""


class FeedTokenOut(ResponseModel):
    url: str = Field(description="The subscription URL with its token, shown this once: treat it like a password")


def _feed_url(token: str) -> str:
    return f"{current().settings.public_base_url.rstrip('/')}/calendars/feeds/{token}.ics"


def _issued(url: str) -> Response:
    # The body holds a secret: no cache may keep it.
    return respond(FeedTokenOut(url=url), 201, {"Cache-Control": "no-store"})


def _mediator_in_reach(session: Session, actor: User, mediator_id: int) -> None:
    if session.get(Mediator, mediator_id) is None:
        raise NotFound(f"mediator {mediator_id} not found")
    if actor.role not in OFFICE and own_mediator_id(session, actor) != mediator_id:
        raise Forbidden("a mediator manages only their own calendar feed")


def _room(session: Session, room_id: int) -> None:
    if session.get(Room, room_id) is None:
        raise NotFound(f"room {room_id} not found")


@route(feeds_api_bp, "POST", "/mediators/<int:mediator_id>/feed-token", summary="Issue (rotate) a mediator's feed URL",
       tag="calendar feeds", roles=STAFF, body=MediatorFeedTokenCreate, response=FeedTokenOut, status=201,
       errors=(403,))
def issue_mediator_feed_token(mediator_id: int, body: MediatorFeedTokenCreate) -> Response:
    """A new iCalendar subscription URL; the previous one of this mediator stops working (404)."""
    with writing() as (session, actor):
        _mediator_in_reach(session, actor, mediator_id)
        token = issue_feed_token(session, mediator_id=mediator_id, include_names=body.include_names)
        audit.record(session, actor.id, "calendar_feed.issued", "mediator", mediator_id,
                     "with names" if body.include_names else "")
    return _issued(_feed_url(token))


@route(feeds_api_bp, "DELETE", "/mediators/<int:mediator_id>/feed-token", summary="Revoke a mediator's feed URL",
       tag="calendar feeds", roles=STAFF, status=204, errors=(403,))
def revoke_mediator_feed_token(mediator_id: int) -> Response:
    """The mediator's feed URL stops working at once. Revoking when there is none is fine."""
    with writing() as (session, actor):
        _mediator_in_reach(session, actor, mediator_id)
        if revoke_feed_tokens(session, mediator_id=mediator_id):
            audit.record(session, actor.id, "calendar_feed.revoked", "mediator", mediator_id)
    return Response(status=204)


@route(feeds_api_bp, "POST", "/rooms/<int:room_id>/feed-token", summary="Issue (rotate) a room's feed URL",
       tag="calendar feeds", roles=OFFICE, body=RoomFeedTokenCreate, response=FeedTokenOut, status=201)
def issue_room_feed_token(room_id: int, body: RoomFeedTokenCreate) -> Response:
    """A new iCalendar subscription URL for the room; the previous one stops working (404)."""
    with writing() as (session, actor):
        _room(session, room_id)
        token = issue_feed_token(session, room_id=room_id)
        audit.record(session, actor.id, "calendar_feed.issued", "room", room_id)
    return _issued(_feed_url(token))


@route(feeds_api_bp, "DELETE", "/rooms/<int:room_id>/feed-token", summary="Revoke a room's feed URL",
       tag="calendar feeds", roles=OFFICE, status=204)
def revoke_room_feed_token(room_id: int) -> Response:
    """The room's feed URL stops working at once."""
    with writing() as (session, actor):
        _room(session, room_id)
        if revoke_feed_tokens(session, room_id=room_id):
            audit.record(session, actor.id, "calendar_feed.revoked", "room", room_id)
    return Response(status=204)

