"""Personal data of the phone line kept only as long as needed (invariant 6).

An IVR call's state is needed while the call lasts: it goes after two days.
A callback request holds a phone number: once it is finished (done,
unreachable, cancelled) it goes after the retention period, with its
attempts (ON DELETE CASCADE in SQL; SQLite enforces it too, foreign keys on).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from telephony.models import CallbackRequest, IvrCall

IVR_STATE_KEEP = timedelta(days=2)
FINISHED = ("done", "unreachable", "cancelled")


def purge_phone_records(session: Session, now: datetime, retention_days: int) -> tuple[int, int]:
    """Delete stale IVR call states and finished callback requests past retention; return both counts."""
    calls = session.execute(delete(IvrCall).where(IvrCall.updated_at < now - IVR_STATE_KEEP),
                            execution_options={"synchronize_session": False}).rowcount or 0
    requests = session.execute(
        delete(CallbackRequest).where(CallbackRequest.status.in_(FINISHED),
                                      CallbackRequest.updated_at < now - timedelta(days=retention_days)),
        execution_options={"synchronize_session": False}).rowcount or 0
    return calls, requests
