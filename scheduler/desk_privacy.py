"""A participant's data for the staff desk: download what Pendel holds (right of access) and erase it
(right to erasure). The desk_privacy blueprint, coordinators and admins only.

/participants/<id>/erase shows what erasure does and what stays, and why it cannot be done yet (the
participant still takes part in an open case: they stop first, on the withdrawal's own page); its POST
runs scheduler.erasure. /participants/<id>/export (a POST from the case page or the erasure page, with
the form token) answers with the file of scheduler.participant_export, not stored by the browser's cache.
A mediator gets the office's 403 page, someone who cannot see the participant the same 404 as an unknown id.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.auth import login_required
from core.db import utcnow
from core.problems import Forbidden, NotFound
from core.runtime import current, db_session
from scheduler import erasure
from scheduler.api import writing
from scheduler.desk_cases import _office_only
from scheduler.desk_meeting import _not_found
from scheduler.participant_export import export_participant, export_sections

desk_privacy = Blueprint("desk_privacy", __name__, template_folder="templates")


@desk_privacy.route("/participants/<int:participant_id>/erase", methods=["GET", "POST"])
@login_required
def erase(participant_id: int) -> Any:
    try:
        plan = erasure.plan_erasure(db_session(), participant_id, g.user)
    except NotFound:
        return _not_found()
    except Forbidden:
        return _office_only()
    case_url = url_for("desk_cases.show", case_id=plan.participant.case_id)
    if request.method == "POST" and plan.possible:  # its form token was checked before (core.web: CSRFProtect)
        try:
            with writing() as (write, actor):
                erasure.erase_participant(write, participant_id, actor, utcnow())
        except erasure.NotErasable:
            flash(_("This participant's data cannot be erased now: look again at why."), "warning")
            return redirect(request.path, 303)
        flash(_("The participant's personal data was erased."), "success")
        return redirect(case_url, 303)
    status = 400 if request.method == "POST" else 200
    return render_template("scheduler/desk/privacy/erase.html", plan=plan, case_url=case_url), status


@desk_privacy.route("/participants/<int:participant_id>/export", methods=["POST"])
@login_required
def export(participant_id: int) -> Any:
    tz = ZoneInfo(current().settings.office_timezone)
    try:
        with writing() as (write, actor):  # writes the audit entry that a file was made
            data = export_participant(write, actor, participant_id, export_sections(current_app), utcnow(), tz)
    except NotFound:
        return _not_found()
    except Forbidden:
        return _office_only()
    day = utcnow().astimezone(tz).date().isoformat()
    return Response(data, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="pendel-deelnemer-{participant_id}-{day}.json"'})
