"""Shared set-up for the SMS webhook tests: requests signed as Twilio signs them, and a small world.

Requests are signed for https://pendel.test, the public URL in the test
settings; `snapshot` reads back everything the webhooks may change, so a
test can show that a refused or repeated request changed nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import func, select, update

from core.db import utcnow
from core.twilio_signature import sign
from notifications.inbound_models import InboundMessage
from notifications.jobs import attempt_send
from notifications.models import OutboxMessage
from notifications.outbox import NewMessage, add_message
from scheduler.models import Appointment, Attendance, Participant
from tests import factories

BASE = "https://pendel.test"
TOKEN = "test-auth-token"
_sids = count(1)


def sid(prefix: str = "SM") -> str:
    return f"{prefix}{next(_sids):032d}"


def post(client: Any, path: str, params: dict[str, str], signed_for: str | None = None, token: str = TOKEN,
         signed: bool = True) -> Any:
    headers = {"X-Twilio-Signature": sign(signed_for or BASE + path, params, token)} if signed else {}
    return client.post(path, data=params, headers=headers)


def text_in(client: Any, sender: str, body: str, message_sid: str | None = None, **kw: Any) -> Any:
    params = {"MessageSid": message_sid or sid(), "From": sender, "To": "+3197010000000", "Body": body}
    return post(client, "/telephony/sms", params, **kw)


def status(client: Any, message_sid: str, value: str, error: str | None = None) -> Any:
    params = {"MessageSid": message_sid, "MessageStatus": value, **({"ErrorCode": error} if error else {})}
    return post(client, "/telephony/sms/status", params)


def snapshot(runtime: Any) -> dict[str, Any]:
    """Everything these webhooks may change."""
    with runtime.db.session() as s:
        return {
            "inbound": s.scalar(select(func.count()).select_from(InboundMessage)),
            "outbox": sorted((m.id, m.kind, m.status, m.provider_status) for m in s.scalars(select(OutboxMessage))),
            "sms_allowed": sorted((p.id, p.sms_allowed) for p in s.scalars(select(Participant))),
            "responses": sorted((a.participant_id, a.response) for a in s.scalars(select(Attendance))),
        }


def messages(runtime: Any, kind: str | None = None) -> list[OutboxMessage]:
    with runtime.db.session() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        return list(s.scalars(query.where(OutboxMessage.kind == kind) if kind else query))


def build_world(runtime: Any) -> dict[str, Any]:
    """A mediator with a case (victim, offender); the victim's number is also on a second case; one
    confirmed appointment for the victim in three days; pending SMS and email reminders for the victim."""
    now = utcnow()
    with runtime.db.write_session() as s:
        m1, m2 = factories.mediator(s), factories.mediator(s)
        case = factories.case(s, [m1])
        victim, offender = case.participants
        other = factories.case(s, [m2], roles=("next_of_kin",))
        other.participants[0].phone = victim.phone
        start = (now + timedelta(days=3)).replace(microsecond=0)
        appointment = Appointment(case_id=case.id, kind="intake", mode="phone", start=start,
                                  end=start + timedelta(hours=1), status="confirmed", mediators=[m1])
        appointment.attendances = [Attendance(participant_id=victim.id, arrival=start)]
        s.add(appointment)
        s.flush()
        for channel, to in (("sms", victim.phone), ("email", victim.email)):
            add_message(s, NewMessage(key=f"rem:{channel}", kind="appointment_reminder", channel=channel,
                                      recipient_kind="participant", to=to, language="nl", body="Herinnering",
                                      participant_id=victim.id, appointment_id=appointment.id,
                                      appointment_version=1, is_reminder=True), now)
        return {"phone": victim.phone, "victim": victim.id, "offender": offender.id, "offender_phone": offender.phone,
                "other": other.participants[0].id, "m1": m1.id, "m2": m2.id, "appointment": appointment.id,
                "reference": case.reference, "names": [victim.name, offender.name, other.participants[0].name]}


def send_once(runtime: Any, row_id: int, now: datetime | None = None) -> str:
    """Claim the row as the dispatcher does and run one attempt of the send job; its outcome."""
    table = OutboxMessage.__table__
    with runtime.db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(status="queued", attempts=table.c.attempts + 1))
        attempts = conn.execute(select(table.c.attempts).where(table.c.id == row_id)).scalar()
        return attempt_send(conn, runtime.settings, row_id, attempts, now or utcnow())
