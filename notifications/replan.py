"""A participant's messages not sent yet, written again from current facts.

Pure, like `planning`: the subscribers cancel the rows (outbox.withdraw_for_rewrite),
load the facts and write what comes back. Two occasions:

- a reassignment moved the appointment's version on (the mediators' invitations
  need a new SEQUENCE): each unsent row is written again as it was, for the new
  version (`rewritten`);
- the participant's details changed: a new number or email, a channel switched
  on or off, another language, a withdrawn opt-in. What they have not been sent
  yet is planned again for each of their appointments (`replanned`): a notice
  still waiting goes on every channel they now allow, except one it already went
  on (a cancellation only if the appointment was announced to them);
  reminders are planned afresh. What already went is never sent again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifications.outbox import NewMessage
from notifications.planning import (ANNOUNCING, AppointmentFacts, Office, ParticipantFacts, announced, channels,
                                    participant_message, reminder_messages)
from notifications.timing import QuietHours, reminder_time

REMINDER = "appointment_reminder"
NOTICES = ("appointment_confirmed", "appointment_rescheduled")
REWRITABLE = (*NOTICES, REMINDER, "appointment_cancelled")


def key_suffix(key: str, kind: str) -> str:
    """What the key adds to the kind, e.g. "-2880m" for a reminder, "" for a notice (tags stripped).

    Keys read appt:<id>:v<version>:<kind><suffix>[/<tag>…]:<channel>:p<participant>.
    """
    return key.rsplit(":", 2)[0].split(":", 3)[3][len(kind):].split("/")[0]


@dataclass(frozen=True)
class Unsent:
    """A participant's message that was cancelled before it went, as its outbox row said."""

    id: int
    idempotency_key: str
    kind: str
    channel: str
    appointment_id: int
    appointment_version: int
    participant_id: int
    is_reminder: bool
    not_before: datetime
    deadline: datetime | None


@dataclass(frozen=True)
class Went:
    """A participant's message about the appointment that the provider accepted (sent, delivered…)."""

    kind: str
    channel: str
    suffix: str                 # key_suffix: which reminder
    not_before: datetime        # a notice's rows all carry the moment of the change they tell about
    deadline: datetime | None   # a reminder's: the arrival it was about


def _participant(facts: AppointmentFacts, participant_id: int) -> ParticipantFacts | None:
    p = next((p for p in facts.participants if p.participant_id == participant_id), None)
    return None if p is None or p.withdrawn else p


def rewritten(old: Unsent, facts: AppointmentFacts, office: Office) -> NewMessage | None:
    """`old` again, from current facts: same kind, channel and timing; today's version, address and text.

    None when it should not be written again: the channel is off or has no
    address now, the participant withdrew or left the appointment, or the
    message no longer fits the appointment (a notice of a cancellation that
    is not the latest, a reminder of an appointment that is off). The key
    names the row it replaces, so it can never collide with a cancelled one.
    """
    if facts.status == "cancelled":
        if old.kind != "appointment_cancelled" or old.appointment_version != facts.version:
            return None
    elif old.kind == "appointment_cancelled":
        return None
    p = _participant(facts, old.participant_id)
    to = dict(channels(p)).get(old.channel) if p is not None else None
    if p is None or to is None:
        return None
    return participant_message(old.kind, facts, p, old.channel, to, office,
                               key_suffix=f"{key_suffix(old.idempotency_key, old.kind)}/r{old.id}",
                               is_reminder=old.is_reminder, not_before=old.not_before, deadline=old.deadline)


def replanned(facts: AppointmentFacts, participant_id: int, unsent: list[Unsent], went: list[Went],
              office: Office, minutes_before: tuple[int, ...], now: datetime, tag: str) -> list[NewMessage]:
    """What the participant should still get about this appointment, now that their details changed.

    `unsent`: their rows about it that were just cancelled; `went`: those the
    provider accepted. A notice (confirmation, change, cancellation) still
    waiting goes on every channel they allow now, except where it already went,
    with the moment of the change it tells about. Reminders of a confirmed
    appointment ahead are planned afresh; one that already went on a channel
    goes only where a copy of it was still waiting (not on other channels); one
    whose moment has passed goes only if it was still waiting.
    `tag` (unique to this change) keeps the keys clear of the rows before.
    """
    p = _participant(facts, participant_id)
    if p is None:
        return []
    if facts.status == "cancelled":
        waiting = [u for u in unsent if u.kind == "appointment_cancelled" and u.appointment_version == facts.version]
        out = []
    elif facts.status == "confirmed" and facts.start > now:
        waiting = [u for u in unsent if u.kind in NOTICES]
        out = _reminders(facts, p, unsent, went, office, minutes_before, now, tag)
    else:
        return []
    told = frozenset({participant_id} if any(w.kind in ANNOUNCING for w in went) else ())
    for kind, moment in sorted({(u.kind, u.not_before) for u in waiting}):
        gone = {w.channel for w in went if w.kind == kind and w.not_before == moment}
        again = [participant_message(kind, facts, p, channel, to, office, key_suffix=tag, not_before=moment)
                 for channel, to in channels(p) if channel not in gone]
        out += [m for m in again if announced(m, told)]
    return out


def _reminders(facts: AppointmentFacts, p: ParticipantFacts, unsent: list[Unsent], went: list[Went],
               office: Office, minutes_before: tuple[int, ...], now: datetime, tag: str) -> list[NewMessage]:
    quiet = QuietHours(office.quiet_start, office.quiet_end, office.tz)
    out: list[NewMessage] = []
    for minutes in minutes_before:
        suffix = f"-{minutes}m"
        gone = {w.channel for w in went if w.kind == REMINDER and w.suffix == suffix and w.deadline == p.arrival}
        waiting = [u for u in unsent if u.kind == REMINDER and u.deadline == p.arrival
                   and key_suffix(u.idempotency_key, u.kind) == suffix]
        # A reminder that went on one channel is not added on others; its copies still waiting
        # (an email in retry when the text went) go on, to the new details.
        channels_left = {u.channel for u in waiting} - gone if gone else None
        if channels_left == set():
            continue
        due = reminder_time(p.arrival, minutes, now, quiet)
        if due is None:  # its moment has passed: only one that was still waiting goes (at once)
            due = min((u.not_before for u in waiting), default=None)
            if due is None or p.arrival <= now:
                continue
        out += [m for m in reminder_messages(facts, p, minutes, due, office, tag)
                if channels_left is None or m.channel in channels_left]
    return out
