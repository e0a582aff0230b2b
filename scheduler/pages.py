"""Staff pages: the signed-in home with upcoming appointments and open tasks."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template
from sqlalchemy import select

from core.auth import login_required
from core.db import utcnow
from core.runtime import current, db_session
from scheduler.access import own_mediator_id, visible_appointments, visible_cases
from scheduler.models import Appointment, MediatorTask

staff_bp = Blueprint("staff", __name__, template_folder="templates")


@staff_bp.get("/")
@login_required
def home() -> Any:
    session = db_session()
    now = utcnow()
    appointments = session.scalars(visible_appointments(session, g.user)
                                   .where(Appointment.end > now, Appointment.status.in_(("held", "confirmed")))
                                   .limit(50)).all()
    tasks_query = select(MediatorTask).where(MediatorTask.done_at.is_(None)).order_by(MediatorTask.created_at)
    if not g.user.sees_all_cases:
        tasks_query = tasks_query.where(MediatorTask.mediator_id == own_mediator_id(session, g.user))
    cases = session.scalars(visible_cases(session, g.user).limit(100)).all()
    return render_template("scheduler/home.html", appointments=appointments, tasks=session.scalars(tasks_query).all(),
                           cases=cases, tz=current().settings.tz)
