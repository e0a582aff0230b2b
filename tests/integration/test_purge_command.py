"""`flask --app app purge [--dry-run]`: what the hourly purge does, now, with what went per kind."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.db import utcnow
from scheduler.models import Appointment
from scheduler.participant_models import ParticipantLink
from telephony.models import CallbackRequest, IvrCall
from tests.integration.participant_helpers import book_with_link, settings  # noqa: F401 - the fixture


def _old_records(runtime: Any) -> None:
    """A finished callback request and a call state long past their keeping, and a link that can never work."""
    long_ago = utcnow() - timedelta(days=runtime.settings.retention_days + 5)
    booked = book_with_link(runtime)
    with runtime.db.write_session() as s:
        s.add(CallbackRequest(number="+31612345678", number_typed_in=False, caller_number="+31612345678",
                              language="nl", moment="morning", may_identify=False, wants_confirmation=False,
                              status="done", created_at=long_ago, updated_at=long_ago, window_start=long_ago,
                              due_at=long_ago))
        s.add(IvrCall(call_sid="CA" + "0" * 32, caller_number="+31612345678", created_at=long_ago,
                      updated_at=long_ago))
        appointment = s.get(Appointment, booked.appointment_id)
        appointment.start, appointment.end = long_ago, long_ago + timedelta(hours=1)


def _counts(runtime: Any) -> tuple[int, int, int]:
    with runtime.db.sessions() as s:
        return (s.scalar(select(func.count()).select_from(CallbackRequest)),
                s.scalar(select(func.count()).select_from(IvrCall)),
                s.scalar(select(func.count()).select_from(ParticipantLink)))


def test_a_dry_run_says_what_would_go_and_changes_nothing(app, runtime) -> None:
    _old_records(runtime)
    before = _counts(runtime)
    result = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "purge-phone-records: would remove 1 phone line call states, 1 callback requests" in result.output
    assert "purge-participant-links: would remove" in result.output
    assert "purge-messages: would remove" in result.output and "purge-registrations: would remove" in result.output
    assert _counts(runtime) == before


def test_purge_removes_and_says_so_and_a_second_run_finds_nothing(app, runtime) -> None:
    _old_records(runtime)
    first = app.test_cli_runner().invoke(args=["purge"])
    assert first.exit_code == 0, first.output
    assert "purge-phone-records: removed 1 phone line call states, 1 callback requests" in first.output
    assert _counts(runtime) == (0, 0, 0)
    second = app.test_cli_runner().invoke(args=["purge"])
    assert "purge-phone-records: removed 0 phone line call states, 0 callback requests" in second.output
    assert "purge-participant-links: removed 0 participant links" in second.output
