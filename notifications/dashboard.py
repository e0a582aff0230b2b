"""Notifications' figures on the office's dashboard: messages sent and failed per day.

Sent: the provider accepted the message that day (`sent_at`; a text that
later turned out undelivered was still sent). Failed: the message finally
failed that day (`finished_at` of a dead or undelivered one): those are the
ones staff must look at.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.charts import BarChart, DashboardClock, Panel, Series, add_dashboard_provider, count_by_day, days_axis, \
    local_start
from notifications.models import OutboxMessage

DAYS = 14
FAILED = ("dead", "undelivered")


def install_dashboard(app: Flask) -> None:
    add_dashboard_provider(app, message_panels)


def message_panels(session: Session, clock: DashboardClock) -> list[Panel]:
    first = clock.today - timedelta(days=DAYS - 1)
    start = local_start(first, clock.tz)
    m = OutboxMessage
    rows = session.execute(select(m.sent_at, m.status, m.finished_at)
                           .where(or_(m.sent_at >= start, and_(m.status.in_(FAILED), m.finished_at >= start)))).all()
    sent = count_by_day((r.sent_at for r in rows), first, DAYS, clock.tz)
    failed = count_by_day((r.finished_at for r in rows if r.status in FAILED), first, DAYS, clock.tz)
    labels, ticks = days_axis(first, DAYS)
    chart = BarChart(
        key="messages", title=_("Messages per day"),
        description=_("Texts and emails sent per day over the last %(days)d days, beside those that finally "
                      "failed.", days=DAYS),
        labels=labels, ticks=ticks, now=DAYS - 1, category_header=_("Day"),
        series=[Series(_("sent"), sent), Series(_("failed"), failed, "alt")])
    links = ()
    if sum(failed) and "desk_messages.dead" in current_app.view_functions:
        links = ((url_for("desk_messages.dead"), _("To the messages that did not arrive")),)
    return [Panel("messages", 30, _("Messages"), chart, headline=str(sum(sent)),
                  headline_note=ngettext("sent in the last %(days)d days · %(num)d failed",
                                         "sent in the last %(days)d days · %(num)d failed", sum(failed),
                                         days=DAYS),
                  links=links)]
