"""The callback queue's rules as plain functions: no database, no clock.

Unreachable: three unsuccessful attempts spread over at least two working
days. Three tries in one morning say little about whether someone can be
reached (they may be at work); tries on two different working days do.
Attempts on a weekend or holiday count as tries but not as a day.

Twilio call statuses: a status callback may arrive late, twice, or after a
later one; `status_rank` orders them so a record only ever moves forward.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from core.workdays import WorkingDayCalendar
from telephony.models import UNSUCCESSFUL

UNREACHABLE_AFTER = 3
UNREACHABLE_DAYS = 2

_RANK = {"queued": 1, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3,
         "completed": 4, "busy": 4, "no-answer": 4, "failed": 4, "canceled": 4}
TERMINAL = frozenset(status for status, rank in _RANK.items() if rank == 4)

# What the caller's leg of a click-to-call ending in this Twilio status means for the attempt.
# "failed" is Twilio's word for a call it could not place (a number out of service, a network
# error): nobody answered, which is what the caller would have experienced too.
_OUTCOME_OF_CALL = {"completed": "reached", "busy": "busy", "no-answer": "no_answer",
                    "failed": "no_answer", "canceled": "no_answer"}


def is_unreachable(attempts: Iterable[tuple[datetime, str]], calendar: WorkingDayCalendar, tz: tzinfo) -> bool:
    """True once the unsuccessful attempts number three and fall on two working days or more."""
    failures = [at for at, outcome in attempts if outcome in UNSUCCESSFUL]
    days = {at.astimezone(tz).date() for at in failures}
    working_days = {day for day in days if calendar.is_working_day(day)}
    return len(failures) >= UNREACHABLE_AFTER and len(working_days) >= UNREACHABLE_DAYS


def status_rank(status: str | None) -> int:
    """How far along a call is; unknown statuses rank lowest and never overwrite a known one."""
    return _RANK.get(status or "", 0)


def moves_forward(current: str | None, incoming: str) -> bool:
    """Whether `incoming` may replace `current`: only later steps, and the first final status stays."""
    return status_rank(incoming) > status_rank(current)


def outcome_of_call(status: str) -> str | None:
    """The attempt outcome for a finished caller leg; None while the call is not over."""
    return _OUTCOME_OF_CALL.get(status)
