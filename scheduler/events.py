"""Domain events the scheduler publishes inside its transactions.

Plain data only (ids, times, flags): subscribers such as notifications load
what they need themselves, and nothing here drags ORM objects across packages.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AppointmentConfirmed:
    appointment_id: int
    version: int
    actor_id: int | None


@dataclass(frozen=True)
class AppointmentRescheduled:
    """Moved or reshaped. Participants in both versions get one "changed" message; the added ones are
    told as at a booking, the removed ones as at a cancellation. Likewise for mediators."""

    appointment_id: int
    version: int
    previous_start: datetime
    previous_end: datetime
    actor_id: int | None
    added_participant_ids: tuple[int, ...] = ()
    removed_participant_ids: tuple[int, ...] = ()
    added_mediator_ids: tuple[int, ...] = ()
    removed_mediator_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class AppointmentCancelled:
    appointment_id: int
    version: int
    reason: str
    actor_id: int | None
    # Participants who must NOT get an automatic message (the other party of a
    # meeting cancelled by a withdrawal hears it from their mediator).
    silent_participant_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ParticipantWithdrew:
    participant_id: int
    case_id: int
    actor_id: int | None


@dataclass(frozen=True)
class WithdrawalUndone:
    participant_id: int
    case_id: int
    actor_id: int | None


@dataclass(frozen=True)
class ParticipantDetailsChanged:
    """A participant's details that their messages are written from changed (address, consent, language…).

    `fields` names what changed, so a subscriber can tell; messages already
    queued for them must follow, not keep what they were written with.
    """

    participant_id: int
    case_id: int
    fields: tuple[str, ...]
    actor_id: int | None


@dataclass(frozen=True)
class AppointmentReassigned:
    appointment_id: int
    version: int
    from_mediator_id: int
    to_mediator_id: int
    actor_id: int | None


@dataclass(frozen=True)
class CallbackRequested:
    """Someone asked to be called back, on the phone line or a web page (published by telephony, inside its
    transaction).

    `caller_number` is the number a confirmation text may go to (E.164), or None: on the phone line the
    number that actually called (never one typed in on the keypad); on the web page the typed number, but
    only once telephony.sms_guard allowed it (a Dutch mobile number, within the daily limits per number
    and per address). `window_start`/`window_end` is when to expect the call.
    """

    callback_id: int
    caller_number: str | None
    language: str
    wants_confirmation: bool
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True)
class CallbackUnreachable:
    """Three attempts over two working days failed; the caller may get a discreet text."""

    callback_id: int
    caller_number: str | None
    language: str
    texts_allowed: bool


@dataclass(frozen=True)
class SlotsOffered:
    """Times were held for a participant to choose from (scheduler.offers): they get a message with their link."""

    offer_id: int
    participant_id: int
    case_id: int
    actor_id: int | None


@dataclass(frozen=True)
class ParticipantAnswered:
    """A participant said on their own page whether they will come (scheduler.responses)."""

    appointment_id: int
    participant_id: int
    response: str            # "coming" or "cannot_come"
    previous: str | None     # what they had said before, if anything


@dataclass(frozen=True)
class ParticipantErasing:
    """A participant's personal data is about to be erased (scheduler.erasure), in this transaction.

    Published before their row is cleared, so a subscriber can still read the number and address it
    must find its own copies by (message copies, callback requests linked to the case) and drop them.
    """

    participant_id: int
    case_id: int


@dataclass(frozen=True)
class CaseErasing:
    """A closed case's personal data is being erased: its participants' (each a ParticipantErasing
    first), then whatever else is linked to the case (callback requests, notices about its appointments)."""

    case_id: int
