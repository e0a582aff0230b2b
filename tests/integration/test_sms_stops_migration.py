"""Migration 0009 finds, in the audit trail, the participants whose texts a STOP switched off.

Before it, a STOP and a staff member's "no SMS" looked alike (`sms_allowed`
off); a START switched both on. After it, only the first kind is recorded
in `sms_stops`, so only they come back on with a START.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.migrate import upgrade
from tests.integration.test_migrations import fresh_engine  # noqa: F401 - the fixture

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
# participant: (sms_allowed, audit actions in order as (action, detail))
HISTORY: dict[int, tuple[bool, list[tuple[str, str]]]] = {
    1: (False, [("participant.sms_stopped", "inbound SMS")]),
    2: (False, [("participant.sms_stopped", "inbound SMS"), ("participant.updated", "email,sms_allowed")]),
    3: (False, [("participant.sms_stopped", ""), ("participant.sms_started", ""), ("participant.sms_stopped", "")]),
    4: (False, [("participant.created", "")]),
    5: (True, [("participant.sms_stopped", ""), ("participant.updated", "sms_allowed")]),
    6: (False, [("participant.sms_stopped", ""), ("participant.updated", "email,phone")]),
    7: (False, [("participant.sms_stopped", ""), ("participant.updated", "email")]),
    8: (False, [("participant.sms_stopped", "")]),
}


def test_the_upgrade_records_the_stops_the_audit_trail_shows(fresh_engine: Engine) -> None:  # noqa: F811
    upgrade(fresh_engine, "0008")
    with fresh_engine.begin() as conn:
        conn.execute(text("INSERT INTO cases (id, reference, kind, status, created_at) "
                          "VALUES (1, 'HB-M-1', 'crime', 'intake', :t)"), {"t": T0})
        at = T0
        for pid, (sms, actions) in HISTORY.items():
            conn.execute(text(
                "INSERT INTO participants (id, case_id, name, role, language, sms_allowed, email_allowed, "
                "full_text_opt_in) VALUES (:id, 1, 'P', 'victim', 'nl', :sms, true, false)"), {"id": pid, "sms": sms})
            for action, detail in actions:
                at += timedelta(minutes=1)
                conn.execute(text("INSERT INTO audit_entries (at, action, object_type, object_id, detail) "
                                  "VALUES (:at, :action, 'participant', :id, :detail)"),
                             {"at": at, "action": action, "id": pid, "detail": detail})
        # Another object's audit entries with the same id change nothing.
        conn.execute(text("INSERT INTO audit_entries (at, action, object_type, object_id, detail) "
                          "VALUES (:at, 'case.updated', 'case', 8, 'sms_allowed')"), {"at": at})
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        found = conn.execute(text("SELECT participant_id FROM sms_stops ORDER BY participant_id")).scalars().all()
    assert found == [1, 3, 7, 8]
