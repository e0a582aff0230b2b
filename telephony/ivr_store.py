"""Loading and saving one call's IVR state with plain SQL statements.

Every key a caller presses is a webhook, so this is the phone line's hot
path: a new call is one `INSERT … ON CONFLICT DO NOTHING RETURNING` (a retried
first webhook finds the row instead), an answer is one `SELECT … FOR UPDATE`
and one `UPDATE` of the columns that changed. The state travels as a plain
dataclass (`CallState`), which the menu logic (telephony.ivr) changes like
any object; the ORM is not involved, so no identity map or flush is paid
for on every key press. The row lock is held until the request's commit,
so webhooks for one call are still applied one at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from sqlalchemy import Connection, bindparam, select, update

from core.db import insert_unless_exists, utcnow
from telephony.models import IvrCall

TABLE = IvrCall.__table__


@dataclass
class CallState:
    """One row of `ivr_calls` without its timestamps (see telephony.models.IvrCall)."""

    call_sid: str
    caller_number: str | None
    language: str = "nl"
    step: str = "menu"
    turn: int = 0
    retries: int = 0
    number: str | None = None
    number_typed_in: bool = False
    moment: str | None = None
    may_identify: bool | None = None
    wants_confirmation: bool | None = None
    callback_id: int | None = None
    accepted_by_id: int | None = None
    call_status: str | None = None

    def snapshot(self) -> "CallState":
        return replace(self)

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


FIELDS = tuple(CallState.__dataclass_fields__)
_COLUMNS = [TABLE.c[name] for name in FIELDS]
# Built once: statements are executed with parameters, so SQLAlchemy reuses their compiled form.
_LOCK = select(*_COLUMNS).where(TABLE.c.call_sid == bindparam("sid")).with_for_update()
_UPDATE = update(TABLE).where(TABLE.c.call_sid == bindparam("where_sid"))


def _state(row: Any) -> CallState:
    return CallState(**row._mapping)


def _insert(conn: Connection, values: dict[str, Any]) -> Any:
    return conn.execute(insert_unless_exists(conn.dialect.name, TABLE, ("call_sid",), FIELDS), values).first()


def lock(conn: Connection, sid: str) -> CallState | None:
    row = conn.execute(_LOCK, {"sid": sid}).first()
    return _state(row) if row is not None else None


def load_or_start(conn: Connection, sid: str, caller_number: Callable[[], str | None],
                  expect_new: bool) -> tuple[CallState, bool]:
    """The call's state, locked, and whether it was created now (the first webhook of the call).

    `expect_new` orders the two statements for the common case: an incoming
    call tries the insert first, an answer the select first. `caller_number`
    is asked only for a new row (parsing a number is not free).
    """
    if not expect_new:
        found = lock(conn, sid)
        if found is not None:
            return found, False
    now = utcnow()
    fresh = CallState(call_sid=sid, caller_number=caller_number())
    row = _insert(conn, {**fresh.values(), "created_at": now, "updated_at": now})
    if row is not None:
        return _state(row), True
    found = lock(conn, sid)  # a parallel first webhook inserted it (the row lock waited for its commit)
    if found is None:
        raise RuntimeError("ivr_calls row vanished under its lock")
    return found, False


def save(conn: Connection, before: CallState, after: CallState) -> None:
    """Write the columns the menu changed; nothing at all when it changed none."""
    old, new = before.values(), after.values()
    changed = {name: value for name, value in new.items() if old[name] != value}
    if changed:
        conn.execute(_UPDATE, {**changed, "updated_at": utcnow(), "where_sid": after.call_sid})
