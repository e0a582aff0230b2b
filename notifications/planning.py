"""Which messages an appointment event causes, for whom, on which channel and when.

Pure: it takes plain facts (no ORM rows, no session) and returns the
messages to write, rendered from templates. The subscribers load the facts
and write the result to the outbox in the booking's own transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, time
from zoneinfo import ZoneInfo

from calendars.ics_export import EventData
from calendars.invitations import invitation
from notifications.outbox import NewMessage
from notifications.rendering import render
from notifications.sms import segments
from notifications.timing import QuietHours, reminder_time


@dataclass(frozen=True)
class Recipient:
    """A participant as their messages need them: name, language, addresses and what they allow."""

    participant_id: int
    name: str
    language: str
    phone: str | None
    email: str | None
    sms_allowed: bool
    email_allowed: bool
    full_text: bool


@dataclass(frozen=True)
class ParticipantFacts(Recipient):
    arrival: datetime        # their own arrival time (joint meetings stagger arrivals)
    withdrawn: bool = False
    departure: datetime | None = None  # their own departure (joint meetings stagger it); None: at the end
    link: str | None = None  # their personal link (scheduler.links), issued by the writer that plans with it


@dataclass(frozen=True)
class MediatorFacts:
    mediator_id: int
    name: str
    email: str
    language: str = "nl"     # their own emails' language (Mediator.language)


@dataclass(frozen=True)
class AppointmentFacts:
    appointment_id: int
    version: int
    kind: str
    mode: str
    start: datetime
    end: datetime
    place: str | None        # "street, city" for in-person appointments
    reference: str           # the case reference: for mediators only, never for participants
    participants: tuple[ParticipantFacts, ...]
    mediators: tuple[MediatorFacts, ...]
    status: str = "confirmed"
    updated_at: datetime | None = None
    video_url: str | None = None  # a video appointment's joining link: its own, else its mediator's standing one


@dataclass(frozen=True)
class Office:
    tz: ZoneInfo
    phone: str
    quiet_start: time
    quiet_end: time
    sms_replies: bool        # the SMS sender is a number, so "reply 1 or 2" can work
    organizer_email: str = "noreply@example.org"
    organizer_name: str = "Afspraken"
    uid_domain: str = "pendel.local"


# Which invitation an email carries: a REQUEST for a new or changed time, a CANCEL for one that is off.
INVITATION_METHOD = {"appointment_confirmed": "REQUEST", "appointment_rescheduled": "REQUEST",
                     "appointment_cancelled": "CANCEL", "confirmed": "REQUEST", "rescheduled": "REQUEST",
                     "reassigned_to_you": "REQUEST", "cancelled": "CANCEL", "reassigned_away": "CANCEL"}


def _invitation(facts: AppointmentFacts, office: Office, method: str, summary: str, email: str, name: str,
                arrival: datetime | None, location: str | None, departure: datetime | None = None) -> str:
    event = EventData(appointment_id=facts.appointment_id, version=facts.version, start=facts.start,
                      end=departure or facts.end,
                      status="cancelled" if method == "CANCEL" else "confirmed", summary=summary,
                      location=location, description=None, updated_at=facts.updated_at or facts.start)
    return invitation(event, method=method, attendee_email=email, attendee_name=name,
                      organizer_email=office.organizer_email, organizer_name=office.organizer_name, tz=office.tz,
                      uid_domain=office.uid_domain, arrival=arrival, rsvp=False).decode()


# The messages that carry the participant's personal link: those about an appointment that is on. Not the
# cancellation: its link would only open the page that says the appointment is off.
LINKED = ("appointment_confirmed", "appointment_rescheduled", "appointment_reminder")


def channels(p: Recipient) -> list[tuple[str, str]]:
    out = []
    if p.sms_allowed and p.phone:
        out.append(("sms", p.phone))
    if p.email_allowed and p.email:
        out.append(("email", p.email))
    return out


def participant_message(kind: str, facts: AppointmentFacts, p: ParticipantFacts, channel: str, to: str,
                         office: Office, key_suffix: str = "", **timing: object) -> NewMessage:
    context = dict(kind=facts.kind, mode=facts.mode, arrival=p.arrival.astimezone(office.tz),
                   departure=p.departure.astimezone(office.tz) if p.departure else None,
                   end=facts.end.astimezone(office.tz), place=facts.place or "", full=p.full_text,
                   office_phone=office.phone, name=p.name, replies=office.sms_replies,
                   link=p.link if kind in LINKED else None)
    context.update(video_url=facts.video_url if facts.mode == "video" else None)  # the link, in their own messages
    rendered = render(channel, kind, p.language, context)
    attachment = None
    if channel == "email" and kind in INVITATION_METHOD:
        summary = render("ics", "participant_summary", p.language, dict(kind=facts.kind, full=p.full_text)).text
        attachment = _invitation(facts, office, INVITATION_METHOD[kind], summary, to, p.name, p.arrival,
                                 facts.place if facts.mode == "in_person" else None, p.departure)
    return NewMessage(
        key=f"appt:{facts.appointment_id}:v{facts.version}:{kind}{key_suffix}:{channel}:p{p.participant_id}",
        kind=kind, channel=channel, recipient_kind="participant", to=to, language=p.language,
        body=rendered.text, subject=rendered.subject, html_body=rendered.html, attachment_ics=attachment,
        participant_id=p.participant_id, appointment_id=facts.appointment_id,
        appointment_version=facts.version, segments=segments(rendered.text) if channel == "sms" else None,
        **timing)  # type: ignore[arg-type]


def participant_messages(kind: str, facts: AppointmentFacts, office: Office,
                         silent_ids: frozenset[int] = frozenset()) -> list[NewMessage]:
    """Confirmation, change or cancellation: at once, to every participant on their allowed channels."""
    return [participant_message(kind, facts, p, channel, to, office)
            for p in facts.participants if not p.withdrawn and p.participant_id not in silent_ids
            for channel, to in channels(p)]


# What tells a participant of an appointment: once one of these went to them, they know of it.
ANNOUNCING = ("appointment_confirmed", "appointment_rescheduled", "appointment_reminder")


def announced(message: NewMessage, told: frozenset[int]) -> bool:
    """Whether a message may go as far as this rule is concerned: a cancellation notice only to a
    participant in `told`, those to whom an ANNOUNCING message about the appointment went (on any
    channel: who knows of it must hear it is off, also on a channel they switched to since). Nobody
    hears "your appointment is off" about one they were never told of; their confirmation, still
    waiting, is withdrawn with it."""
    return message.kind != "appointment_cancelled" or message.participant_id in told


def cancellation_messages(facts: AppointmentFacts, office: Office, told: frozenset[int],
                          silent_ids: frozenset[int] = frozenset()) -> list[NewMessage]:
    """The cancellation notice, at once, to the participants who were told of the appointment (`announced`)."""
    return [m for m in participant_messages("appointment_cancelled", facts, office, silent_ids)
            if announced(m, told)]


def reminders(facts: AppointmentFacts, office: Office, minutes_before: tuple[int, ...],
              now: datetime) -> list[NewMessage]:
    """Reminders at the configured offsets before each participant's own arrival, outside quiet hours."""
    out = []
    for p in facts.participants:
        if p.withdrawn:
            continue
        for minutes in minutes_before:
            due = reminder_time(p.arrival, minutes, now, QuietHours(office.quiet_start, office.quiet_end, office.tz))
            if due is None:
                continue
            out += reminder_messages(facts, p, minutes, due, office)
    return out


def reminder_messages(facts: AppointmentFacts, p: ParticipantFacts, minutes: int, due: datetime, office: Office,
                      tag: str = "") -> list[NewMessage]:
    """The reminder `minutes` before p's arrival, due at `due`, on each channel p allows.

    `tag` is appended to the key when the reminder is planned again after a
    change (the first plan's keys are taken, by rows sent or cancelled).
    """
    return [participant_message("appointment_reminder", facts, p, channel, to, office,
                                 key_suffix=f"-{minutes}m{tag}", is_reminder=True, not_before=due,
                                 deadline=p.arrival)
            for channel, to in channels(p)]


def mediator_messages(event: str, facts: AppointmentFacts, office: Office, silent: bool = False,
                      mediators: tuple[MediatorFacts, ...] | None = None) -> list[NewMessage]:
    """A discreet email to each mediator in whose name the appointment was booked, changed or cancelled."""
    out = []
    for m in facts.mediators if mediators is None else mediators:
        context = dict(event=event, silent=silent, start=facts.start.astimezone(office.tz),
                       end=facts.end.astimezone(office.tz), place=facts.place, mode=facts.mode, kind=facts.kind,
                       reference=facts.reference, name=m.name,
                       video_url=facts.video_url if facts.mode == "video" else None)
        rendered = render("email", "mediator_appointment", m.language, context)  # in the mediator's own language
        summary = render("ics", "mediator_summary", m.language, context).text
        attachment = _invitation(facts, office, INVITATION_METHOD[event], summary, m.email, m.name, None, facts.place)
        out.append(NewMessage(
            key=f"appt:{facts.appointment_id}:v{facts.version}:mediator-{event}:email:m{m.mediator_id}",
            kind="mediator_notice", channel="email", recipient_kind="mediator", to=m.email, language=m.language,
            body=rendered.text, subject=rendered.subject, html_body=rendered.html, attachment_ics=attachment,
            mediator_id=m.mediator_id,
            appointment_id=facts.appointment_id, appointment_version=facts.version))
    return out


def callback_key(callback_id: int, kind: str) -> str:
    """The key of a caller's text. A confirmation always holds the latest call's window: a newer one
    supersedes the older under this key (outbox.supersede), which keeps the older row under its own id."""
    return f"callback:{callback_id}:{kind}:sms"


def callback_message(kind: str, callback_id: int, caller_number: str, language: str, office: Office,
                     window_start: datetime | None = None, window_end: datetime | None = None) -> NewMessage:
    """A text to the number that called (never a typed-in one: the caller of telephony ensures it).

    It goes at once: a confirmation of something the person did this minute.
    """
    body, parts = _callback_text(kind, language, office.phone, office.tz, window_start, window_end)
    return NewMessage(key=callback_key(callback_id, kind), kind=kind, channel="sms", recipient_kind="caller",
                      to=caller_number, language=language, body=body, segments=parts)


@lru_cache(maxsize=256)
def _callback_text(kind: str, language: str, office_phone: str, tz: ZoneInfo, window_start: datetime | None,
                   window_end: datetime | None) -> tuple[str, int]:
    """A caller's text and its segments. Callers of one day share a few windows, so each is rendered once
    (on the phone line's last answer, where the caller waits for it)."""
    context: dict[str, object] = dict(office_phone=office_phone)
    if window_start is not None and window_end is not None:
        context.update(window_start=window_start.astimezone(tz), window_end=window_end.astimezone(tz))
    text = render("sms", kind, language, context).text
    return text, segments(text)
