"""Demo callback requests for a fresh embedded install, so the queue has something to show.

Made up like the rest of the demo (scheduler.demo): the numbers come from
ranges never issued to subscribers. One caller is a demo participant, so the
request is linked to their case and shows on the mediator's overview; one
keyed in a number, so it is marked "verify identity". They go through the
same `submit` the phone line uses, and ask for no confirmation text.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.config import Settings
from core.officehours import OfficeHours
from core.workdays import WorkingDayCalendar
from telephony.callbacks import Choices, callback_window, submit

# (number to call, the number that called, language, moment, may we say who we are)
DEMO_REQUESTS = [
    ("+31687654301", "+31687654301", "nl", "morning", True),     # Sanne Mulder, a participant in HB-2026-0001
    ("+31687654390", None, "nl", "afternoon", False),            # withheld, keyed in: verify identity first
    ("+31687654391", "+31687654391", "en", "no_preference", True),
]


def load_demo_callbacks(session: Session, now: datetime, settings: Settings, calendar: WorkingDayCalendar) -> int:
    """Add the demo requests; returns how many."""
    hours = OfficeHours(settings.office_opens, settings.office_closes)
    for index, (number, caller, language, moment, may_identify) in enumerate(DEMO_REQUESTS, start=1):
        window = callback_window(now, moment, calendar, hours, settings.tz)
        submit(session, Choices(number=number, number_typed_in=caller != number, caller_number=caller,
                                language=language, moment=moment, may_identify=may_identify,
                                wants_confirmation=False, call_sid=f"CA{'demo':0>28}{index:04d}"), window)
    return len(DEMO_REQUESTS)
