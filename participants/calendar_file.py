"""The participant's own "add to my calendar" file: their arrival, their departure, discreet words.

The event has the appointment's one UID (calendars.ics_export.event_uid), the same as the invitations
their emails carry, so a calendar that has both keeps one event, and a later invitation updates it.
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from calendars.ics_export import EventData, build_vevent, new_calendar, serialize
from scheduler.models import Appointment, Attendance


def calendar_file(appointment: Appointment, attendance: Attendance, place: str | None, tz: ZoneInfo,
                  public_base_url: str) -> bytes:
    start: datetime = attendance.arrival or appointment.start
    event = EventData(appointment_id=appointment.id, version=appointment.version, start=start,
                      end=attendance.departure or appointment.end, status="confirmed", summary=_("Appointment"),
                      location=place, description=None, updated_at=appointment.updated_at or appointment.created_at)
    vevent, years = build_vevent(event, tz=tz, uid_domain=urlparse(public_base_url).hostname or "pendel.local",
                                 status="CONFIRMED")
    cal = new_calendar("PUBLISH")
    cal.add_component(vevent)
    return serialize(cal, tz, years)
