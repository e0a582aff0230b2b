"""The office's booking rules as one value: its calendar, its notice, its spacing of arrivals and departures.

Every path that creates or changes an appointment (booking, reschedule,
reassignment) is handed the same `BookingPolicy` and runs the same checks
with it (scheduler.booking_checks). Built from the settings once per
request by `policy_of`; tests build one directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from core.config import Settings
from core.workdays import WorkingDayCalendar

# Why a coordinator books past a rule. Codes, not free text: they reach the audit trail, which holds
# no personal data.
OVERRIDE_REASONS = ("participant_request", "urgent", "accessibility", "mediator_agreed", "no_other_room", "other")


@dataclass(frozen=True)
class BookingPolicy:
    is_working_day: Callable[[date], bool]
    tz: ZoneInfo
    min_notice: timedelta
    # Parties of a joint meeting arrive at least this far apart, so they never meet at the door.
    arrival_gap: timedelta
    # ...and the one who arrived first leaves this long before the end (scheduler.rules.staggered_departures).
    departure_gap: timedelta = timedelta(minutes=Settings.departure_gap_minutes)


def policy_of(settings: Settings, workdays: WorkingDayCalendar) -> BookingPolicy:
    return BookingPolicy(is_working_day=workdays.is_working_day, tz=settings.tz,
                         min_notice=timedelta(minutes=settings.min_notice_minutes),
                         arrival_gap=timedelta(minutes=settings.arrival_gap_minutes),
                         departure_gap=timedelta(minutes=settings.departure_gap_minutes))
