"""Today: the office's dashboard for coordinators, with charts drawn on the server (core.charts).

Every package adds its own figures through `core.charts.add_dashboard_provider`
(telephony its callback requests, notifications its messages); scheduler
adds intakes planned per week and room occupancy per week here, so this page
imports no other package. The office's notes (calendar warnings, callback
requests, open tasks) come from the shared partials.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, g, render_template
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import login_required
from core.charts import (BarChart, DashboardClock, Panel, Series, add_dashboard_provider, count_by_week,
                         dashboard_panels, hours_by_week, local_start, render_bar_chart, weeks_axis)
from core.db import utcnow
from core.runtime import current, db_session
from scheduler.models import Appointment, Case, MediatorTask, Room
from scheduler.week_layout import monday_of

desk_today = Blueprint("desk_today", __name__, template_folder="templates")
desk_today.add_app_template_filter(render_bar_chart, "bar_chart")

TEMPLATES = "scheduler/desk/today/"
WEEKS_BACK, WEEKS_AHEAD = 8, 4
BOOKED = ("confirmed", "completed", "no_show")  # held for real: a hold is not yet planned


def install_today(app: Flask) -> None:
    app.register_blueprint(desk_today)
    add_dashboard_provider(app, scheduler_panels)


@desk_today.get("/today")
@login_required
def index() -> Any:
    if not g.user.sees_all_cases:
        return render_template(TEMPLATES + "office_only.html"), 403
    return today_page()


def today_page() -> Any:
    """The office's day (also the home page of coordinators and admins: scheduler/pages.py)."""
    session = db_session()
    clock = DashboardClock(utcnow(), current().settings.tz)
    tasks = session.scalars(select(MediatorTask).where(MediatorTask.done_at.is_(None))
                            .order_by(MediatorTask.created_at)).all()
    references = dict(session.execute(select(Case.id, Case.reference)
                                      .where(Case.id.in_({t.case_id for t in tasks}))).all()) if tasks else {}
    return render_template(TEMPLATES + "index.html", panels=dashboard_panels(current_app, session, clock),
                           today=clock.today, tasks=tasks, task_cases=references)


# --- scheduler's own figures ---------------------------------------------------------------------------

def week_span(today: date) -> tuple[date, int, int]:
    """(first Monday, number of weeks, index of this week): the last 8 weeks, this one and the next 4."""
    return monday_of(today) - timedelta(weeks=WEEKS_BACK), WEEKS_BACK + 1 + WEEKS_AHEAD, WEEKS_BACK


def scheduler_panels(session: Session, clock: DashboardClock) -> list[Panel]:
    first, weeks, now = week_span(clock.today)
    start, end = local_start(first, clock.tz), local_start(first + timedelta(weeks=weeks), clock.tz)
    labels, ticks = weeks_axis(first, weeks)
    return [_intakes(session, clock, first, weeks, now, start, end, labels, ticks),
            _occupancy(session, clock, first, weeks, now, start, end, labels, ticks)]


def _intakes(session: Session, clock: DashboardClock, first: date, weeks: int, now: int, start: datetime,
             end: datetime, labels: list[str], ticks: list[str]) -> Panel:
    starts = session.scalars(select(Appointment.start).where(Appointment.kind == "intake",
                                                             Appointment.status.in_(BOOKED),
                                                             Appointment.start >= start, Appointment.start < end))
    counts = count_by_week(starts, first, weeks, clock.tz)
    ahead = sum(counts[now + 1:])
    chart = BarChart(
        key="intakes", title=_("Intakes per week"),
        description=_("Intakes planned per week: the last %(back)d weeks, this week and the next %(ahead)d.",
                      back=WEEKS_BACK, ahead=WEEKS_AHEAD),
        labels=labels, ticks=ticks, series=[Series(_("intakes"), counts)], now=now, planned_from=now + 1,
        planned_name=_("booked ahead"), category_header=_("Week"))
    return Panel("intakes", 20, _("Intakes"), chart, headline=str(counts[now]),
                 headline_note=ngettext("intake this week · %(ahead)d booked for the next weeks",
                                        "intakes this week · %(ahead)d booked for the next weeks",
                                        counts[now], ahead=ahead))


def _occupancy(session: Session, clock: DashboardClock, first: date, weeks: int, now: int, start: datetime,
               end: datetime, labels: list[str], ticks: list[str]) -> Panel:
    runtime = current()
    spans = session.execute(select(Appointment.start, Appointment.end)
                            .where(Appointment.room_id.is_not(None), Appointment.status.in_(BOOKED),
                                   Appointment.start < end, Appointment.end > start)).all()
    booked = hours_by_week(((s, e) for s, e in spans), first, weeks, clock.tz)
    rooms = session.scalar(select(func.count()).select_from(Room).where(Room.active.is_(True))) or 0
    available = available_room_hours(first, weeks, rooms, runtime.settings.office_opens,
                                     runtime.settings.office_closes, runtime.workdays.is_working_day)
    shares = [b / a if a else 0.0 for b, a in zip(booked, available)]
    chart = BarChart(
        key="occupancy", title=_("Room occupancy per week"),
        description=_("Hours booked in the office's rooms as a share of the hours they are open "
                      "(working days, office hours, %(rooms)d rooms).", rooms=rooms),
        labels=labels, ticks=ticks, series=[Series(_("booked"), shares)], percent=True, now=now,
        planned_from=now + 1, planned_name=_("booked ahead"), category_header=_("Week"))
    return Panel("occupancy", 40, _("Rooms"), chart, headline=chart.format(shares[now]),
                 headline_note=_("of the room hours booked this week (%(booked)d of %(open)d hours)",
                                 booked=round(booked[now]), open=round(available[now])))


def available_room_hours(first: date, weeks: int, rooms: int, opens: Any, closes: Any,
                         is_working_day: Any) -> list[float]:
    """Hours the rooms are open per week: rooms × working days × the office's opening hours."""
    per_day = (datetime.combine(date.min, closes) - datetime.combine(date.min, opens)).total_seconds() / 3600
    return [rooms * per_day * sum(1 for d in range(7) if is_working_day(first + timedelta(days=7 * w + d)))
            for w in range(weeks)]
