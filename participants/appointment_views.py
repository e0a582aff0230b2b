"""The participant's appointment page and its actions: "I'll come", "I can't", "I want to stop".

Each action has a confirmation page (GET, changes nothing) and a POST that does it through the same
service the desk uses: scheduler.responses for an answer, scheduler.withdrawal for a stop. Doing an
action twice changes nothing the second time. Only the participant's own appointment, arrival and
departure appear: never the other party, never what the case is about.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, Callable

from flask import Response, redirect, render_template, request, url_for

from core.db import utcnow
from core.problems import Conflict
from core.runtime import current, db_session
from participants.calendar_file import calendar_file
from participants.forms import CannotComeForm, ConfirmForm, StopForm
from participants.link_access import appointment_of, closed_page, participant_bp, with_link
from participants.words import KIND_WORDS, MODE_WORDS, moment_note, moments_after
from scheduler import responses, withdrawal
from scheduler.links import Link
from scheduler.models import Appointment, Attendance, Room


@dataclass(frozen=True)
class Visit:
    """What the page shows of one appointment, for this participant only."""

    appointment: Appointment
    attendance: Attendance
    arrival: datetime
    departure: datetime | None   # their own, at a joint meeting; None: at the end
    place: str | None            # the address of an appointment at a location, or their own for a home visit
    video_url: str | None
    phone: str | None            # their own number, for an appointment by phone

    @property
    def kind_words(self) -> Any:
        return KIND_WORDS.get(self.appointment.kind, KIND_WORDS["meeting"])

    @property
    def mode_words(self) -> Any:
        return MODE_WORDS.get(self.appointment.mode, "")


def visit_of(link: Link, appointment: Appointment) -> Visit | None:
    attendance = next((a for a in appointment.attendances if a.participant_id == link.participant.id), None)
    if attendance is None:
        return None
    place = None
    if appointment.mode == "in_person" and appointment.room_id is not None:
        room = db_session().get(Room, appointment.room_id)
        place = f"{room.location.name}, {room.location.address}, {room.location.city}" if room else None
    elif appointment.mode == "home_visit":
        place = link.participant.address
    video = None
    if appointment.mode == "video":
        video = appointment.video_url or next((m.video_url for m in appointment.mediators if m.video_url), None)
    return Visit(appointment, attendance, attendance.arrival or appointment.start,
                 attendance.departure if attendance.departure and attendance.departure < appointment.end else None,
                 place, video, link.participant.phone if appointment.mode == "phone" else None)


def _visit(link: Link) -> Visit | None:
    appointment = appointment_of(link)
    return visit_of(link, appointment) if appointment is not None else None


def with_visit(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page about the link's appointment: the view gets the link and the visit; no appointment, the
    neutral page (an offer's link before a time was chosen has none)."""
    @with_link
    @wraps(view)
    def wrapper(link: Link, *args: Any, **kwargs: Any) -> Any:
        visit = _visit(link)
        return closed_page() if visit is None else view(link, visit, *args, **kwargs)
    return wrapper


def appointment_page(link: Link, visit: Visit, status: int = 200, **extra: Any) -> Any:
    return render_template("participants/appointment.html", visit=visit, participant=link.participant,
                           started=visit.appointment.start <= utcnow(), **extra), status


@participant_bp.get("/a/calendar.ics")
@with_visit
def calendar(link: Link, visit: Visit) -> Any:
    settings = current().settings
    body = calendar_file(visit.appointment, visit.attendance, visit.place, settings.tz, settings.public_base_url)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="afspraak.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer(link: Link, visit: Visit, response: str, reason: str = "", moments: tuple[str, ...] = ()) -> Any:
    try:
        with current().db.write_session() as write:
            responses.answer(write, visit.appointment.id, link.participant.id, response, utcnow(), reason, moments)
    except Conflict:  # it has started, or was changed meanwhile: show it as it is now
        return redirect(url_for(".show"), 303)
    return render_template("participants/answered.html", visit=visit, response=response)


@participant_bp.route("/a/coming", methods=["GET", "POST"])
@with_visit
def coming(link: Link, visit: Visit) -> Any:
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        return _answer(link, visit, "coming")
    return render_template("participants/coming.html", visit=visit, form=form), 400 if request.method == "POST" else 200


@participant_bp.route("/a/cannot-come", methods=["GET", "POST"])
@with_visit
def cannot_come(link: Link, visit: Visit) -> Any:
    settings = current().settings
    moments = moments_after(utcnow().astimezone(settings.tz).date(), current().workdays)
    form = CannotComeForm()
    form.moments.choices = [(m.value, m.value) for m in moments]
    if request.method == "POST" and form.validate_on_submit():
        notes = tuple(filter(None, (moment_note(v) for v in form.moments.data or [])))
        return _answer(link, visit, "cannot_come", form.reason.data or "", notes)
    return render_template("participants/cannot_come.html", visit=visit, form=form, moments=moments), \
        400 if request.method == "POST" else 200


@participant_bp.route("/a/stop", methods=["GET", "POST"])
@with_link
def stop(link: Link) -> Any:
    """Stopping: a page that says what it means, then the same withdrawal as the desk's."""
    plan = withdrawal.plan_withdrawal(db_session(), link.participant.id, None, utcnow())
    form = StopForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            with current().db.write_session() as write:
                withdrawal.withdraw(write, link.participant.id, None, utcnow(), expected=form.expected.data)
        except withdrawal.PlanChanged:
            form.expected.data = plan.fingerprint
            return render_template("participants/stop.html", form=form, plan=plan, changed=True), 409
        return render_template("participants/stopped.html")
    form.expected.data = plan.fingerprint
    return render_template("participants/stop.html", form=form, plan=plan, changed=False), \
        400 if request.method == "POST" else 200
