"""The phone line keeps numbers only as long as needed: IVR state for days, finished requests until retention."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.db import utcnow
from core.periodic import run_task
from telephony.models import CallbackAttempt, CallbackRequest, IvrCall
from telephony.periodic import PURGE_PHONE_RECORDS
from tests.conftest import both_databases


def _request(status: str, updated_days_ago: int, now):  # type: ignore[no-untyped-def]
    at = now - timedelta(days=updated_days_ago)
    return CallbackRequest(number=f"+3161234{updated_days_ago:04d}", number_typed_in=False, language="nl",
                           moment="morning", may_identify=False, wants_confirmation=False, status=status,
                           created_at=at, updated_at=at, window_start=at, due_at=at)


@both_databases
def test_purge_removes_stale_ivr_state_and_finished_requests_past_retention(database, settings):
    now = utcnow()
    with database.write_session() as s:
        old_done = _request("done", 200, now)
        s.add_all([old_done, _request("open", 300, now), _request("unreachable", 10, now),
                   IvrCall(call_sid="CA-old", updated_at=now - timedelta(days=3), created_at=now - timedelta(days=3)),
                   IvrCall(call_sid="CA-live", updated_at=now, created_at=now)])
        s.flush()
        s.add(CallbackAttempt(callback_id=old_done.id, at=now - timedelta(days=200), outcome="reached"))
    assert settings.retention_days == 180
    assert run_task(PURGE_PHONE_RECORDS, database, now, settings) == 2  # telephony's periodic task
    with database.session() as s:
        kept = sorted((r.status, r.number) for r in s.scalars(select(CallbackRequest)))
        assert kept == [("open", "+31612340300"), ("unreachable", "+31612340010")]  # open work is never purged
        assert s.scalars(select(CallbackAttempt)).all() == []
        assert [c.call_sid for c in s.scalars(select(IvrCall))] == ["CA-live"]
