"""Loading and saving one call's IVR state with plain SQL statements.

Every key a caller presses is a webhook, so this is the phone line's hot
path: a new call is one `INSERT … ON CONFLICT DO NOTHING RETURNING` (a retried
first webhook finds the row instead), an answer is one `SELECT … FOR UPDATE`
and one `UPDATE` of the columns that changed. The state travels as a plain
dataclass (`CallState`), which the menu logic (telephony.ivr) changes like
any object; the ORM is not involved, so no identity map or flush is paid
for on every key press. The row lock is held until the request's commit,
so webhooks for one call are still applied one at a time.

Most answers need not read the row at all: each question's action URL names
the question as it was asked (`Asked`: step, language, failed tries; the
turn is in the path), which with the calling number is all an answer to it
reads. `save_if_asked` then writes the answer with one `UPDATE … WHERE` the
row is still as asked and the call is not over, and writes nothing when it
is not (a retried or parallel webhook got there first, or Twilio's status
callback said the caller hung up, which may already have taken the request
with the answers so far), so the caller can apply the answer to the row as
it is, under its lock. Nothing personal is in those URLs.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from sqlalchemy import Connection, bindparam, select, update

from core.db import insert_unless_exists, utcnow
from telephony.models import IvrCall
from telephony.queue_rules import TERMINAL

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


class _NotRead:
    """A column an answer was applied without reading (see `as_asked`): deciding anything on it is a bug."""

    def __bool__(self) -> bool:
        raise TypeError("an ivr_calls column that was not read")

    def __repr__(self) -> str:
        return "NOT_READ"


NOT_READ: Any = _NotRead()
QUESTION_STEPS = frozenset({"menu", "confirm_number", "enter_number", "read_back", "moment", "identify",
                            "confirmation"})
LANGUAGES = frozenset({"nl", "en"})
_TRIES = frozenset("0123456789")  # failed tries at a question: fewer than ten (telephony.ivr.MAX_FAILURES)


@dataclass(frozen=True)
class Asked:
    """A question as it was asked, carried in its action URL: `?step=…&lang=…&tries=…`."""

    step: str
    language: str
    retries: int

    @classmethod
    def of(cls, call: CallState) -> "Asked":
        return cls(call.step, call.language, call.retries)

    def query(self) -> str:
        return f"step={self.step}&lang={self.language}&tries={self.retries}"

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> "Asked | None":
        """The question an action URL names; None when it names none (an older URL, or nonsense)."""
        step, language, tries = args.get("step"), args.get("lang"), args.get("tries", "")
        if step not in QUESTION_STEPS or language not in LANGUAGES or tries not in _TRIES:
            return None
        return cls(step, language, int(tries))


def as_asked(sid: str, turn: int, asked: Asked, caller_number: str | None) -> CallState:
    """The call as it stood when `asked`: what an answer to a question reads, every other column NOT_READ.

    The call is taken to be still going (no final status): `save_if_asked` writes only if it is.
    """
    return CallState(call_sid=sid, caller_number=caller_number, language=asked.language, step=asked.step,
                     turn=turn, retries=asked.retries, number=NOT_READ, number_typed_in=NOT_READ,
                     moment=NOT_READ, may_identify=NOT_READ, wants_confirmation=NOT_READ, callback_id=NOT_READ,
                     accepted_by_id=NOT_READ, call_status=None)


FIELDS = tuple(CallState.__dataclass_fields__)
_COLUMNS = [TABLE.c[name] for name in FIELDS]
# Built once: statements are executed with parameters, so SQLAlchemy reuses their compiled form.
_LOCK = select(*_COLUMNS).where(TABLE.c.call_sid == bindparam("sid")).with_for_update()
_UPDATE = update(TABLE).where(TABLE.c.call_sid == bindparam("where_sid"))
_UPDATE_IF_ASKED = _UPDATE.where(
    TABLE.c.step == bindparam("seen_step"), TABLE.c.turn == bindparam("seen_turn"),
    TABLE.c.language == bindparam("seen_language"), TABLE.c.retries == bindparam("seen_retries"),
    TABLE.c.caller_number.is_not_distinct_from(bindparam("seen_caller")),
    TABLE.c.call_status.is_(None) | TABLE.c.call_status.not_in(sorted(TERMINAL)))


def _state(row: Any) -> CallState:
    return CallState(*row)  # the statements select FIELDS in order


def _insert(conn: Connection, values: dict[str, Any]) -> bool:
    """Whether the row was inserted now (not there already)."""
    statement = insert_unless_exists(conn.dialect.name, TABLE, ("call_sid",), ("call_sid",))
    return conn.execute(statement, values).first() is not None


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
    if _insert(conn, {**fresh.values(), "created_at": now, "updated_at": now}):
        return fresh, True
    found = lock(conn, sid)  # a parallel first webhook inserted it (the row lock waited for its commit)
    if found is None:
        raise RuntimeError("ivr_calls row vanished under its lock")
    return found, False


def _changed(before: CallState, after: CallState) -> dict[str, Any]:
    old, new = before.values(), after.values()
    return {name: value for name, value in new.items() if old[name] != value}


def save(conn: Connection, before: CallState, after: CallState) -> None:
    """Write the columns the menu changed; nothing at all when it changed none."""
    changed = _changed(before, after)
    if changed:
        conn.execute(_UPDATE, {**changed, "updated_at": utcnow(), "where_sid": after.call_sid})


def save_if_asked(conn: Connection, before: CallState, after: CallState) -> bool:
    """Write what an answer changed if the row is still as `before` (from `as_asked`) says and the call
    not over; else nothing, False."""
    result = conn.execute(_UPDATE_IF_ASKED, {
        **_changed(before, after), "updated_at": utcnow(), "where_sid": after.call_sid,
        "seen_step": before.step, "seen_turn": before.turn, "seen_language": before.language,
        "seen_retries": before.retries, "seen_caller": before.caller_number})
    return result.rowcount == 1
