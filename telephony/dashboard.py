"""Telephony's figures on the office's dashboard: callback requests per day, and how many were called back
within the window the caller was promised.

A request counts as called back at its first call attempt (whatever the
outcome: the office kept its word by calling), or, when it was closed as done
without a recorded attempt, at that closing. Called back by the end of the
promised window (`due_at`) is in time; later, or not at all once the window
is over, is late; a request still inside its window, or no longer needed
without a call, is neither, and is left out of the share.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from flask import Flask, url_for
from flask_babel import gettext as _, ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.charts import (BarChart, DashboardClock, Panel, Series, add_dashboard_provider, days_axis, local_start,
                         percent)
from telephony.models import CallbackAttempt, CallbackRequest

DAYS = 28


def install_dashboard(app: Flask) -> None:
    add_dashboard_provider(app, callback_panels)


def outcome(created_at: datetime, due_at: datetime, status: str, first_attempt: datetime | None,
            closed_at: datetime | None, now: datetime) -> str:
    """"in_time", "late" or "other" (still within its window, or no longer needed without a call)."""
    called = first_attempt or (closed_at if status == "done" else None)
    if called is not None:
        return "in_time" if called <= due_at else "late"
    if status == "cancelled" or due_at >= now:
        return "other"
    return "late"


def callback_panels(session: Session, clock: DashboardClock) -> list[Panel]:
    first = clock.today - timedelta(days=DAYS - 1)
    start = local_start(first, clock.tz)
    recent = select(CallbackRequest.id).where(CallbackRequest.created_at >= start)
    attempts = (select(CallbackAttempt.callback_id, func.min(CallbackAttempt.at).label("first"))
                .where(CallbackAttempt.callback_id.in_(recent)).group_by(CallbackAttempt.callback_id).subquery())
    rows = session.execute(
        select(CallbackRequest.created_at, CallbackRequest.due_at, CallbackRequest.status,
               CallbackRequest.updated_at, attempts.c.first)
        .outerjoin(attempts, attempts.c.callback_id == CallbackRequest.id)
        .where(CallbackRequest.created_at >= start)).all()
    counts: dict[str, list[int]] = {k: [0] * DAYS for k in ("in_time", "late", "other")}
    for r in rows:
        day = (r.created_at.astimezone(clock.tz).date() - first).days
        if 0 <= day < DAYS:
            counts[outcome(r.created_at, r.due_at, r.status, r.first, r.updated_at, clock.now)][day] += 1
    in_time, late = sum(counts["in_time"]), sum(counts["late"])
    labels, ticks = days_axis(first, DAYS)
    chart = BarChart(
        key="callbacks", title=_("Callback requests per day"),
        description=_("Callback requests per day over the last %(days)d days, split by whether the caller was "
                      "called back within the promised window.", days=DAYS),
        labels=labels, ticks=ticks, stacked=True, now=DAYS - 1, category_header=_("Day"),
        series=[Series(_("called back in time"), counts["in_time"]), Series(_("late"), counts["late"], "alt"),
                Series(_("still in its window or no longer needed"), counts["other"], "muted")])
    share = in_time / (in_time + late) if in_time + late else None
    return [Panel("callbacks", 10, _("Callback requests"), chart,
                  headline=percent(share) if share is not None else "–",
                  headline_note=ngettext("called back within the promised window (%(num)d request, last %(days)d days)",
                                         "called back within the promised window (%(num)d requests, last %(days)d "
                                         "days)", len(rows), days=DAYS),
                  links=((url_for("callback_pages.queue"), _("To the callback requests")),))]
