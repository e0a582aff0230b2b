"""The JSON API under /api/v1: one blueprint, views split by resource.

Every route is declared through `core.api.registry`, which validates the
body and query with the models it documents in /api/v1/openapi.json.
Conventions: unknown ids in the path are 404 (as is anything outside the
caller's sight); unknown ids in a body or query are 422 naming the field.
Writes run in `write_session()` (one unit of work; BEGIN IMMEDIATE on SQLite,
so a booking holds the write lock from its first statement).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Blueprint, g
from sqlalchemy.orm import Session

from core.auth import Unauthorized
from core.models import User
from core.runtime import current, db_session

api_bp = Blueprint("api", __name__)

STAFF = ("admin", "coordinator", "mediator")
OFFICE = ("admin", "coordinator")


@contextmanager
def writing() -> Iterator[tuple[Session, User]]:
    """A write unit of work and the signed-in user loaded in it (the actor services expect).

    The request session's read transaction (from the token check) is ended
    first, so it cannot hold a lock the write transaction waits for.
    """
    db_session().commit()
    with current().db.write_session() as session:
        actor = session.get(User, g.user.id)
        if actor is None:  # deleted between auth and now
            raise Unauthorized("the signed-in user no longer exists")
        yield session, actor


from scheduler.api import appointments, cases, openapi, people, privacy  # noqa: E402,F401  (register the routes)
