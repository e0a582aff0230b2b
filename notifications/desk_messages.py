"""The staff desk's Messages: what did not arrive, and each appointment's messages.

- GET /messages/dead (coordinators and admins): failed messages still needing
  someone, with the reason in words (notifications.dead_letters.reason_of),
  whom and which appointment they were for; per row a form that fixes the
  participant's number or address (through scheduler.casework.
  update_participant: notifications writes no scheduler row itself) and a
  "send again" button (dead_letters.send_again, which runs the send job's own
  check first).
- GET /appointments/<id>/messages (everyone who may see the appointment,
  scheduler.access; a mediator on another's case gets the same 404 as an
  unknown id): each message about it with its history — written, planned,
  sent, delivered or failed, with the times.

Pages show no message text: a delivery list needs none, and the text is
personal data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import EmailField, HiddenField, StringField
from wtforms.validators import Length, Optional

from core.auth import login_required
from core.db import utcnow
from core.navigation import safe_next
from core.problems import InvalidInput, NotFound, Problem
from core.runtime import current, db_session
from core.web import register_labels
from notifications.api import visible_messages
from notifications.dead_letters import REASONS, CannotSendAgain, again_key, failed_messages, reason_of, send_again
from notifications.models import OutboxMessage
from scheduler import casework
from scheduler.access import appointment_for
from scheduler.api import writing
from scheduler.contact import normalize_email, normalize_phone
from scheduler.models import Appointment, Mediator, Participant
from core.web_words import phone_display

desk_messages = Blueprint("desk_messages", __name__, template_folder="templates", static_folder="static",
                          static_url_path="/static/desk_messages")

OFFICE = ("admin", "coordinator")
LIMIT = 200

# Why a message did not arrive, in words (dead_letters.REASONS).
REASON_WORDS = {
    "number_invalid": _l("The phone number does not exist or is not valid."),
    "not_mobile": _l("The phone number is not a mobile number: it cannot receive text messages."),
    "unsubscribed": _l("The number unsubscribed from our texts (STOP). Only the participant can undo that, "
                       "by texting START."),
    "mailbox_unknown": _l("The email address does not exist (unknown mailbox)."),
    "rejected": _l("The provider or the receiving side refused the message."),
    "too_many_attempts": _l("Every attempt failed: the provider could not be reached often enough."),
    "other": _l("Another error."),
}
assert set(REASON_WORDS) == set(REASONS)

# Why "send again" did not send (dead_letters.CannotSendAgain.reason and the send check's skip reasons).
REFUSALS = {
    "not_failed": _l("This message did not fail."),
    "purged": _l("The message's content is no longer kept (retention period)."),
    "already_sent_again": _l("This message was already sent again."),
    "recipient_gone": _l("The recipient no longer exists."),
    "no_address": _l("The recipient has no phone number or email address for this message: fix it first."),
    "participant_withdrew": _l("The participant has stopped: nothing more is sent to them."),
    "number_opted_out": _l("The number unsubscribed from our texts (STOP)."),
    "number_not_textable": _l("This number cannot receive texts: fix the number first."),
    "channel_off": _l("The participant does not (or no longer) allow this channel."),
    "appointment_gone": _l("The appointment no longer exists."),
    "appointment_not_live": _l("The appointment is no longer planned."),
    "appointment_not_cancelled": _l("The appointment is not cancelled (any more)."),
    "stale_version": _l("The appointment has changed since: the participant got, or gets, a newer message."),
    "deadline_passed": _l("Too late: the appointment has begun or the message's moment has passed."),
    "quiet_hours_until_deadline": _l("Too late: the night's quiet hours last until the appointment."),
    "offer_closed": _l("The times offered to choose from are no longer open: chosen, withdrawn or run out."),
}

MESSAGE_WORDS = {
    "message_status": {
        "pending": _l("waiting"), "queued": _l("being sent"), "sent": _l("sent"), "delivered": _l("delivered"),
        "undelivered": _l("not delivered"), "dead": _l("failed"), "cancelled": _l("withdrawn"),
        "skipped": _l("not sent"),
    },
    "message_kind": {
        "appointment_confirmed": _l("confirmation"), "appointment_rescheduled": _l("new time"),
        "appointment_cancelled": _l("cancellation"), "appointment_reminder": _l("reminder"),
        "mediator_notice": _l("notice to a mediator"), "callback_confirmation": _l("callback confirmation"),
        "callback_unreachable": _l("caller not reached"), "auto_reply": _l("automatic reply"),
        "slots_offered": _l("times to choose from"),
    },
    "channel": {"sms": _l("text message"), "email": _l("email")},
}


def install_desk(app: Flask) -> None:
    """The Messages pages and the words for the outbox's stored values."""
    for kind, words in MESSAGE_WORDS.items():
        register_labels(app, kind, words)
    app.register_blueprint(desk_messages)


# --- forms -------------------------------------------------------------------------------------

class FixPhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[Length(max=40)])


class FixEmailForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[Length(max=254)])


class SendAgainForm(FlaskForm):
    next = HiddenField(validators=[Optional()])


FIELD_MESSAGES = {
    "is not a phone number": _l("This is not a phone number."),
    "is not a valid phone number": _l("This is not a valid phone number."),
    "is not an email address": _l("This is not an email address."),
}


def _field_message(exc: InvalidInput) -> str:
    """A service's refusal of a field, in the page's language."""
    message = exc.errors[0]["message"] if exc.errors else exc.detail
    if message.startswith("cannot receive texts") or message.startswith("needs a mobile number"):
        return _("This number cannot receive text messages, which this participant allows: give a mobile number.")
    if message.startswith("needs a phone number"):
        return _("Texts are allowed for this participant: they need a phone number.")
    if message.startswith("needs an email address"):
        return _("Email is allowed for this participant: they need an email address.")
    word = FIELD_MESSAGES.get(message)
    return str(word) if word is not None else message


# --- what the pages show -----------------------------------------------------------------------

def _link(endpoint: str, **values: Any) -> str | None:
    """A link to another helper's page once that page exists."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


@dataclass
class FailedRow:
    message: OutboxMessage
    reason: str
    participant: Participant | None
    mediator: Mediator | None
    appointment: Appointment | None
    case_url: str | None
    appointment_url: str | None
    fix_form: FlaskForm | None
    again_form: SendAgainForm


def _fix_form(row: OutboxMessage, participant: Participant | None, data: Any = None) -> FlaskForm | None:
    if participant is None or row.recipient_kind != "participant":
        return None
    if row.channel == "sms":
        form: FlaskForm = FixPhoneForm(formdata=data, prefix=f"m{row.id}", phone=phone_display(participant.phone))
    else:
        form = FixEmailForm(formdata=data, prefix=f"m{row.id}", email=participant.email or "")
    return form


def _failed_rows(session: Session, failing: tuple[int, FlaskForm] | None = None) -> list[FailedRow]:
    messages = list(session.scalars(failed_messages().limit(LIMIT)))
    participants = {p.id: p for p in session.scalars(select(Participant).where(
        Participant.id.in_({m.participant_id for m in messages if m.participant_id})))}
    mediators = {m.id: m for m in session.scalars(select(Mediator).where(
        Mediator.id.in_({m.mediator_id for m in messages if m.mediator_id})))}
    appointments = {a.id: a for a in session.scalars(select(Appointment).where(
        Appointment.id.in_({m.appointment_id for m in messages if m.appointment_id})))}
    rows = []
    for m in messages:
        participant = participants.get(m.participant_id) if m.participant_id else None
        appointment = appointments.get(m.appointment_id) if m.appointment_id else None
        fix = failing[1] if failing and failing[0] == m.id else _fix_form(m, participant)
        rows.append(FailedRow(
            message=m, reason=reason_of(m.last_error), participant=participant,
            mediator=mediators.get(m.mediator_id) if m.mediator_id else None, appointment=appointment,
            case_url=_link("desk_cases.show", case_id=participant.case_id) if participant else None,
            appointment_url=(_link("desk_booking.appointment", appointment_id=appointment.id)
                             or url_for(".appointment", appointment_id=appointment.id)) if appointment else None,
            fix_form=fix, again_form=SendAgainForm(formdata=None)))
    return rows


def _office_only() -> None:
    if g.user.role not in OFFICE:
        abort(403)


def _render_dead(failing: tuple[int, FlaskForm] | None = None, status: int = 200) -> Any:
    session = db_session()
    rows = _failed_rows(session, failing)
    return render_template("notifications/desk/dead.html", rows=rows, reason_words=REASON_WORDS,
                           limit=LIMIT, mediator_url=lambda mediator_id: _link(
                               "desk_admin.mediator", mediator_id=mediator_id)), status


# --- views ---------------------------------------------------------------------------------------

@desk_messages.get("/messages/dead")
@login_required
def dead() -> Any:
    _office_only()
    return _render_dead()


@desk_messages.post("/messages/<int:message_id>/fix")
@login_required
def fix(message_id: int) -> Any:
    """Fix the participant's number or email (the participant service re-addresses what still waits)."""
    _office_only()
    session = db_session()
    row = session.get(OutboxMessage, message_id)
    participant = session.get(Participant, row.participant_id) if row is not None and row.participant_id else None
    if row is None or participant is None or row.recipient_kind != "participant":
        abort(404)
    form = _fix_form(row, participant, request.form)
    assert form is not None
    field = form.phone if isinstance(form, FixPhoneForm) else form.email  # type: ignore[attr-defined]
    name = "phone" if isinstance(form, FixPhoneForm) else "email"
    if form.validate():
        raw = (field.data or "").strip()
        try:
            if not raw:
                raise InvalidInput(name, "is required")
            value = normalize_phone(raw, "phone") if name == "phone" else normalize_email(raw, "email")
            with writing() as (write, actor):
                casework.update_participant(write, actor, participant.id, {name: value})
        except InvalidInput as exc:
            field.errors = [_("Fill this in.") if exc.errors and exc.errors[0]["message"] == "is required"
                            else _field_message(exc)]
        except NotFound:
            abort(404)
        else:
            flash(_("Number saved. Messages still waiting go to it; this one goes only if you send it again.")
                  if name == "phone" else
                  _("Address saved. Messages still waiting go to it; this one goes only if you send it again."),
                  "success")
            return redirect(url_for(".dead", _anchor=f"message-{message_id}"), 303)
    return _render_dead((message_id, form), 400)


@desk_messages.post("/messages/<int:message_id>/again")
@login_required
def again(message_id: int) -> Any:
    _office_only()
    form = SendAgainForm()
    target = safe_next(form.next.data, "desk_messages.dead") if form.next.data else url_for(".dead")
    try:
        with writing() as (session, actor):
            send_again(session, current().settings, actor, message_id, utcnow())
    except NotFound:
        abort(404)
    except CannotSendAgain as exc:
        flash(str(REFUSALS.get(exc.reason, exc.detail)), "error")
    except Problem as exc:
        flash(exc.detail, "error")
    else:
        flash(_("The message is on its way again."), "success")
    return redirect(target, 303)


@dataclass(frozen=True)
class Step:
    what: str
    at: datetime | None


def history(row: OutboxMessage) -> list[Step]:
    """What happened to one message, in order, from the times its row keeps."""
    steps = [Step(_("written"), row.created_at)]
    if row.not_before - row.created_at > timedelta(minutes=1):
        steps.append(Step(_("planned for"), row.not_before))
    if row.sent_at is not None:
        steps.append(Step(_("sent"), row.sent_at))
    final = {"delivered": _("delivered"), "undelivered": _("not delivered"), "dead": _("failed"),
             "cancelled": _("withdrawn"), "skipped": _("not sent")}.get(row.status)
    if final is not None:
        steps.append(Step(final, row.finished_at))
    elif row.status == "queued":
        steps.append(Step(_("being sent"), None))
    elif row.attempts > 0:
        steps.append(Step(_("will be tried again"), row.next_attempt_at))
    elif len(steps) == 1:  # not planned for later: it goes in a moment
        steps.append(Step(_("waiting to be sent"), None))
    return steps


@desk_messages.get("/appointments/<int:appointment_id>/messages")
@login_required
def appointment(appointment_id: int) -> Any:
    session = db_session()
    try:
        found = appointment_for(session, g.user, appointment_id)
    except NotFound:
        abort(404)
    messages = list(session.scalars(visible_messages(session, g.user)
                                    .where(OutboxMessage.appointment_id == appointment_id)
                                    .order_by(None).order_by(OutboxMessage.created_at, OutboxMessage.id)))
    people = {p.id: p for p in found.case.participants}
    mediators = {m.id: m for m in session.scalars(select(Mediator).where(
        Mediator.id.in_({m.mediator_id for m in messages if m.mediator_id})))}
    by_key = {m.idempotency_key: m.id for m in messages}
    rows = [dict(message=m, steps=history(m), participant=people.get(m.participant_id or 0),
                 mediator=mediators.get(m.mediator_id or 0),
                 reason=reason_of(m.last_error) if m.status in ("dead", "undelivered") else None,
                 sent_again=by_key.get(again_key(m))) for m in messages]
    return render_template(
        "notifications/desk/appointment.html", appointment=found, rows=rows, reason_words=REASON_WORDS,
        refusals=REFUSALS, office=g.user.role in OFFICE, again_form=SendAgainForm(formdata=None),
        appointment_url=_link("desk_booking.appointment", appointment_id=found.id),
        case_url=_link("desk_cases.show", case_id=found.case_id))
