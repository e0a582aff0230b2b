"""A cancellation notice goes only to participants who were told of the appointment (planning.announced)."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from notifications.planning import (AppointmentFacts, MediatorFacts, Office, ParticipantFacts,
                                    cancellation_messages)
from notifications.replan import Unsent, Went, replanned

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2030, 3, 1, 9, 0, tzinfo=timezone.utc)
START = NOW + timedelta(days=3)
OFFICE = Office(tz=TZ, phone="030 123 4567", quiet_start=time(21), quiet_end=time(8), sms_replies=True)


def _person(pid: int) -> ParticipantFacts:
    return ParticipantFacts(participant_id=pid, name=f"P{pid}", language="nl", phone=f"+3161234567{pid}",
                            email=f"p{pid}@example.net", sms_allowed=True, email_allowed=True, full_text=False,
                            arrival=START)


FACTS = AppointmentFacts(appointment_id=7, version=2, kind="meeting", mode="phone", start=START,
                         end=START + timedelta(hours=1), place=None, reference="HB-2030-0001",
                         participants=(_person(1), _person(2), _person(3)),
                         mediators=(MediatorFacts(1, "M", "m@example.org"),), status="cancelled", updated_at=NOW)


def test_only_participants_who_were_told_get_the_cancellation_on_each_channel_they_allow():
    out = cancellation_messages(FACTS, OFFICE, told=frozenset({1, 3}), silent_ids=frozenset({3}))
    assert sorted((m.participant_id, m.channel) for m in out) == [(1, "email"), (1, "sms")]
    assert cancellation_messages(FACTS, OFFICE, told=frozenset()) == []


def _waiting_cancellation(channel: str) -> Unsent:
    return Unsent(id=40, idempotency_key=f"appt:7:v2:appointment_cancelled:{channel}:p1",
                  kind="appointment_cancelled", channel=channel, appointment_id=7, appointment_version=2,
                  participant_id=1, is_reminder=False, not_before=NOW, deadline=None)


def test_a_waiting_cancellation_follows_a_details_change_only_to_someone_who_was_told():
    """Written before this rule (or by any other path), a notice to someone never told is not written again."""
    told = [Went("appointment_confirmed", "sms", "", NOW - timedelta(days=1), None)]
    again = replanned(FACTS, 1, [_waiting_cancellation("sms")], told, OFFICE, (2880,), NOW, "/p1")
    assert sorted(m.channel for m in again) == ["email", "sms"]
    assert replanned(FACTS, 1, [_waiting_cancellation("sms")], [], OFFICE, (2880,), NOW, "/p1") == []
