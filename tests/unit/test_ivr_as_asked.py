"""An answer applied as asked does exactly what it does to the row read in full.

telephony.voice_views applies most answers to `ivr_store.as_asked` (the
question as its URL names it, every other column NOT_READ) instead of the
row. For every question, key, language, calling number, failed tries and
time of day, the two must give the same TwiML and the same row afterwards;
otherwise `ivr.needs_row` must send the answer to the locked path.
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from core.config import Settings
from core.workdays import WorkingDayCalendar
from telephony import ivr
from telephony.ivr_prompts import LineContext
from telephony.ivr_store import NOT_READ, Asked, CallState, _changed, as_asked

AMS = ZoneInfo("Europe/Amsterdam")
# No number to show on staff phones, so key 1 in office hours offers the callback without asking who is on duty.
SETTINGS = Settings(environment="testing", database_url="sqlite://", secret_key="x" * 40,
                    public_base_url="https://pendel.test")
MOMENTS = {"open": datetime(2026, 11, 30, 10, 0, tzinfo=AMS), "closed": datetime(2026, 11, 28, 20, 0, tzinfo=AMS)}
KEYS = ["", "1", "2", "3", "9", "7", "*", "0612345678", "0612345678#", "0900123456", "+31612345678"]


def calls_at_questions() -> list[CallState]:
    """Rows as they stand when each question is asked, with what the earlier answers stored."""
    out = []
    for caller, language, retries in itertools.product(("+31612345678", None), ("nl", "en"), (0, 2)):
        base = CallState(call_sid="CA1", caller_number=caller, language=language, retries=retries, turn=4)
        own = {"number": caller, "number_typed_in": False} if caller else {"number": "+31687654321",
                                                                          "number_typed_in": True}
        out += [replace(base, step="menu"),
                replace(base, step="enter_number"),
                replace(base, step="read_back", number="+31687654321", number_typed_in=True),
                replace(base, step="moment", **own),
                replace(base, step="identify", moment="afternoon", **own)]
        if caller:
            out.append(replace(base, step="confirm_number"))
            out.append(replace(base, step="confirmation", moment="morning", may_identify=False, **own))
    return out


@pytest.mark.parametrize("when", sorted(MOMENTS))
def test_every_answer_as_asked_matches_the_answer_to_the_row(when: str) -> None:
    ctx = LineContext(settings=SETTINGS, calendar=WorkingDayCalendar(), now=MOMENTS[when].astimezone(timezone.utc))
    compared = 0
    for row, key in itertools.product(calls_at_questions(), KEYS):
        asked = as_asked(row.call_sid, row.turn, Asked.of(row), row.caller_number)
        if ivr.needs_row(asked):
            assert ivr.needs_row(row)
            continue
        full, partial = row.snapshot(), asked.snapshot()
        expected = str(ivr.answer(None, full, key, ctx))  # type: ignore[arg-type]
        got = str(ivr.answer(None, partial, key, ctx))  # type: ignore[arg-type]
        assert got == expected, (row, key)
        written = _changed(asked, partial)
        assert NOT_READ not in written.values()
        assert replace(row, **written) == full, (row, key)
        compared += 1
    assert compared > 200
