"""The send-time check (invariant 3 in docs/architecture.md): may this message still go, now?

A message is written when something happens, but sent later — seconds later
normally, days later for a reminder, much later after retries. Between the
two the appointment may have been moved or cancelled, the participant may
have stopped, SMS may have been switched off, night may have fallen. The send
job asks this module, under the row lock, with plain data it loaded itself.

Outcomes:
- send;
- skip (with a reason): the message is not wrong to have written but must not
  go now — stale version, channel off, number opted out of SMS or found not
  textable by the provider, address no longer the participant's, too late,
  times offered to choose from that are no longer open (chosen, withdrawn, lapsed).
  Status `skipped`.
- cancel: the participant withdrew; nothing more goes to them. Status `cancelled`.
- postpone until a time: a reminder in quiet hours that can still go in time.

Only reminders respect quiet hours: a confirmation of something the person did
this minute (a callback request, a booking made with them on the phone) or a
cancellation goes at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from notifications.timing import QuietHours, end_of_quiet

# Messages about one version of a live appointment: stale once the version moves on.
ABOUT_LIVE_VERSION = ("appointment_confirmed", "appointment_rescheduled", "appointment_reminder")
LIVE_STATUSES = ("held", "confirmed")  # as scheduler.models.LIVE_STATUSES (plain data here)

Action = Literal["send", "skip", "cancel", "postpone"]


@dataclass(frozen=True)
class AppointmentFacts:
    status: str
    version: int
    start: datetime


@dataclass(frozen=True)
class ParticipantFacts:
    withdrawn: bool
    sms_allowed: bool
    email_allowed: bool


@dataclass(frozen=True)
class MessageFacts:
    """What the row says about itself (no addresses, no text)."""

    kind: str
    channel: str
    recipient_kind: str           # participant, mediator, caller
    is_reminder: bool
    appointment_version: int | None
    deadline: datetime | None
    # SMS: the number texted STOP/STOPPEN/AFMELDEN and not START since (whoever the recipient is).
    number_opted_out: bool = False
    # The confirmation of that very stop: the one text that still goes to an opted-out number.
    confirms_opt_out: bool = False
    # SMS: the provider found the number invalid or unable to take texts (notifications.verdicts).
    number_not_textable: bool = False
    # A participant's message: its address is still their phone (SMS) or email (email).
    address_current: bool = True
    # A message about times offered to choose from (notifications.offer_messages): whether that offer is still
    # open now; None for every other message.
    offer_open: bool | None = None


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    until: datetime | None = None   # for postpone: UTC-aware


SEND = Decision("send")


def check(message: MessageFacts, appointment: AppointmentFacts | None, participant: ParticipantFacts | None,
          now: datetime, quiet: QuietHours) -> Decision:
    """Decide about one message. `appointment`/`participant` are None when the row names none (or it is gone)."""
    if message.recipient_kind == "participant":
        if participant is None:
            return Decision("skip", "recipient_gone")
        if participant.withdrawn:
            return Decision("cancel", "participant_withdrew")
    if message.channel == "sms" and message.number_opted_out and not message.confirms_opt_out:
        return Decision("skip", "number_opted_out")
    if message.channel == "sms" and message.number_not_textable:
        return Decision("skip", "number_not_textable")

    reminder = message.is_reminder or message.kind == "appointment_reminder"
    deadline = message.deadline
    if message.appointment_version is not None:
        verdict = _appointment_verdict(message, appointment, reminder)
        if verdict is not None:
            return verdict
        assert appointment is not None
        if message.kind in ABOUT_LIVE_VERSION or reminder:
            # Telling someone about an appointment that has begun helps nobody.
            deadline = appointment.start if deadline is None else min(deadline, appointment.start)
    if message.offer_open is False:
        return Decision("skip", "offer_closed")  # chosen, withdrawn or lapsed since: its link shows just that

    if participant is not None and not _channel_allowed(message.channel, participant):
        return Decision("skip", "channel_off")
    if message.recipient_kind == "participant" and not message.address_current:
        return Decision("skip", "address_changed")  # re-written to the new address, or to nobody
    if deadline is not None and now >= deadline:
        return Decision("skip", "deadline_passed")

    if reminder:
        quiet_end = end_of_quiet(now, quiet)
        if quiet_end is not None:
            if deadline is not None and quiet_end >= deadline:
                return Decision("skip", "quiet_hours_until_deadline")
            return Decision("postpone", "quiet_hours", quiet_end)
    return SEND


def _appointment_verdict(message: MessageFacts, appointment: AppointmentFacts | None,
                         reminder: bool) -> Decision | None:
    """None when the appointment still warrants this message; else skip with a reason."""
    if appointment is None:
        return Decision("skip", "appointment_gone")
    if message.kind == "appointment_cancelled":
        # A cancellation notice is about the cancelled version; if anything happened since, it is stale.
        if appointment.status != "cancelled":
            return Decision("skip", "appointment_not_cancelled")
        if appointment.version != message.appointment_version:
            return Decision("skip", "stale_version")
        return None
    if message.kind in ABOUT_LIVE_VERSION or reminder:
        if appointment.status not in LIVE_STATUSES:
            return Decision("skip", "appointment_not_live")
        if appointment.version != message.appointment_version:
            return Decision("skip", "stale_version")
    # Other kinds (mediator notices) report something that happened; they go regardless.
    return None


def _channel_allowed(channel: str, participant: ParticipantFacts) -> bool:
    if channel == "sms":
        return participant.sms_allowed
    if channel == "email":
        return participant.email_allowed
    return False
