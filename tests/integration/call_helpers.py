"""Click-to-call as Twilio plays it, for test_click_to_call.py and test_call_status.py.

The app talks to the Twilio stand-in through the real `twilio` client (one
auth token for both: Twilio signs its webhooks with the account's token), and
`place_call_job` runs in a real RQ worker (burst) on a private redis-server:
job ids name the `callback_calls` row, and those ids start at 1 again in
every test, so a shared Redis could hand a job to another test's worker.

`ClickToCall` follows one call: the staff member presses "call" (request,
commit, enqueue, work), their phone picks up the leg Twilio placed, and the
caller's leg reports its statuses and the Dial's outcome.

    from tests.integration.call_helpers import conn, jobs, private_redis, settings, standin  # noqa: F401
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterator

import pytest
import redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

import core.jobcontext as jobcontext
from core.models import User
from telephony.click_to_call import enqueue_place_call, request_call
from telephony.models import CallbackAttempt, CallbackCall, CallbackRequest
from tests.integration.ivr_helpers import (BASE, TOKEN, Caller, Heard, StaffPhone, new_sid, parse_staff,
                                           status_callback)
from tests.support.fixtures import conn, private_redis  # noqa: F401 - fixtures, re-exported for the tests
from tests.support.twilio_standin import TwilioRequest, TwilioStandin

SHOWN = "+3197010000001"  # the stand-in's Twilio number: every call we place shows it
COORDINATOR_PHONE = "+31611112222"


@pytest.fixture
def standin() -> Iterator[TwilioStandin]:
    with TwilioStandin(auth_token=TOKEN, phone_number=SHOWN) as running:
        yield running


@pytest.fixture
def settings(settings: Any, standin: TwilioStandin) -> Any:
    return replace(settings, **standin.settings_changes())


@pytest.fixture
def jobs(runtime: Any) -> Iterator[Any]:
    """Jobs in this process run with the app's runtime (its database and the stand-in's settings)."""
    with jobcontext.job_runtime_as(runtime):
        yield runtime


def work(conn: redis.Redis) -> None:
    """A real RQ worker on the calls queue, until it is empty."""
    SimpleWorker([Queue("calls", connection=conn)], connection=conn).work(burst=True, logging_level="WARNING")


def walk_request(client: Any, number: str = "+31612345678", keys: tuple[str, ...] = ("2", "1", "1", "1", "1"),
                 runtime: Any = None) -> int:
    """A caller asks for a callback through the IVR; returns the request's id."""
    caller = Caller(client, number)
    assert caller.walk(*keys).hung_up
    assert runtime is not None
    with runtime.db.session() as s:
        request_id = s.scalar(select(CallbackRequest.id).where(CallbackRequest.call_sid == caller.sid))
    assert request_id is not None
    return request_id


def call_row(runtime: Any, call_id: int) -> CallbackCall:
    with runtime.db.session() as s:
        row = s.get(CallbackCall, call_id)
        assert row is not None
        return row


def request_row(runtime: Any, request_id: int) -> CallbackRequest:
    with runtime.db.session() as s:
        row = s.get(CallbackRequest, request_id)
        assert row is not None
        return row


def attempts(runtime: Any, request_id: int) -> list[tuple[str, str | None, int | None]]:
    """(outcome, call_sid, by_user_id) of every attempt, in order."""
    with runtime.db.session() as s:
        return [(a.outcome, a.call_sid, a.by_user_id) for a in s.scalars(
            select(CallbackAttempt).where(CallbackAttempt.callback_id == request_id).order_by(CallbackAttempt.id))]


@dataclass
class ClickToCall:
    client: Any
    runtime: Any
    conn: redis.Redis
    standin: TwilioStandin
    user_id: int
    request_id: int
    call_id: int = 0
    placed: TwilioRequest | None = None
    staff: StaffPhone | None = None
    dial: Heard | None = None
    caller_sid: str = ""

    def press_call(self, run: bool = True) -> "ClickToCall":
        """The staff member presses "call": the row is written and committed, then the job is queued."""
        with self.runtime.db.write_session() as s:
            actor = s.get(User, self.user_id)
            assert actor is not None
            self.call_id = request_call(s, actor, self.request_id).id
        assert enqueue_place_call(self.conn, self.call_id)
        if run:
            self.run_job()
        return self

    def run_job(self) -> None:
        work(self.conn)
        calls = [c for c in self.standin.calls if c.form.get("Url", "").endswith(f"/callback/{self.call_id}/staff")]
        self.placed = calls[-1] if calls else None

    def pick_up(self) -> Heard:
        """The staff phone answers the call Twilio placed: it fetches the leg's TwiML."""
        assert self.placed is not None and self.placed.sid
        self.staff = StaffPhone(self.client, self.placed.form["To"], shown=self.placed.form["From"],
                                sid=self.placed.sid)
        return self.staff.pick_up(self.placed.form["Url"])

    def press(self, key: str) -> Heard:
        assert self.staff is not None
        heard = self.staff.press(key)
        if heard.dial is not None:
            self.dial, self.caller_sid = heard, new_sid()
        return heard

    def staff_status(self, status: str, sid: str | None = None) -> Any:
        assert self.placed is not None
        return status_callback(self.client, self.placed.form["StatusCallback"], sid or self.placed.sid or "",
                               status, To=self.placed.form["To"], From=self.placed.form["From"])

    def caller_status(self, status: str, sid: str | None = None) -> Any:
        """A status callback of the caller's leg (the Dial's Number), as Twilio posts it."""
        assert self.dial is not None and self.dial.dial is not None and self.staff is not None
        number, attrs = self.dial.dial.numbers[0]
        return status_callback(self.client, attrs["statusCallback"], sid or self.caller_sid, status,
                               To=number, From=self.dial.dial.attrs["callerId"], ParentCallSid=self.staff.sid,
                               Direction="outbound-dial")

    def dial_done(self, status: str, sid: str | None = None) -> Heard:
        """The Dial to the caller is over: Twilio posts its action on the staff leg."""
        assert self.dial is not None and self.dial.dial is not None and self.staff is not None
        extra = {"DialCallStatus": status, "DialCallSid": sid or self.caller_sid, "DialCallDuration": "12"}
        return parse_staff(self.staff.post(self.dial.dial.attrs["action"], extra))


def staff_url(call_id: int, step: str = "staff") -> str:
    return f"{BASE}/telephony/voice/callback/{call_id}/{step}"
