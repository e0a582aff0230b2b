"""A callback request that did not come by phone: from the public page /bel-mij-terug, or from a
participant's own page when the times offered to them ran out.

It joins the phone line's queue the phone line's way (telephony.callbacks.take): one open request per
number, a later request from that number updating the open one, and the same promise (the chosen part
of the next working day, office hours). What differs is that nobody called:

- the number was typed in (`number_typed_in`: staff verify who they speak to before saying who we are),
  there is no call (`call_sid` None) and no calling number (`caller_number` None, so no case is linked
  by number and no "we could not reach you" text ever goes to it);
- a confirmation text goes only when the SMS-pumping guard allows it (telephony.sms_guard); then the
  request says so (`wants_confirmation`) and CallbackRequested carries the number for notifications to
  text. Whatever the guard says, the request itself is taken.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.config import Settings
from core.events import publish
from core.officehours import OfficeHours
from core.public_limits import PublicLimits, public_limits
from core.runtime import current
from core.workdays import WorkingDayCalendar
from scheduler.events import CallbackRequested
from telephony.callbacks import Choices, Window, callback_window, take
from telephony.ivr_prompts import MAY_TEXT, any_number
from telephony.models import LANGUAGES, MOMENTS, CallbackRequest
from telephony.sms_guard import MayText, Refusal, confirmation_refused

_TABLE = CallbackRequest.__table__


@dataclass(frozen=True)
class WebRequest:
    """What became of a request: its id, the promised window, and why no text goes (None: one goes, or
    none was wanted)."""

    id: int
    window: Window
    texted: bool
    text_refused: Refusal | None


def request_callback(session: Session, settings: Settings, *, number: str, language: str, moment: str,
                     may_identify: bool, wants_confirmation: bool, now: datetime, case_id: int | None = None,
                     address: str | None = None) -> int:
    """Take a callback request for `number` (E.164, from telephony.numbers) and return its id (see
    `take_web_request`, which also says whether a text goes)."""
    return take_web_request(session, settings, number=number, language=language, moment=moment,
                            may_identify=may_identify, wants_confirmation=wants_confirmation, now=now,
                            case_id=case_id, address=address).id


def take_web_request(session: Session, settings: Settings, *, number: str, language: str, moment: str,
                     may_identify: bool, wants_confirmation: bool, now: datetime, case_id: int | None = None,
                     address: str | None = None, calendar: WorkingDayCalendar | None = None,
                     limits: PublicLimits | None = None, may_text: MayText | None = None) -> WebRequest:
    """Take the request in the caller's transaction and publish CallbackRequested with it.

    `case_id` links the request to a case the caller knows it is about (a participant's page); a case
    already linked to the number's open request is kept otherwise. `address` is the web client's, for
    the guard's per-address limit. `calendar`, `limits` and `may_text` default to the app's."""
    if language not in LANGUAGES or moment not in MOMENTS:
        raise ValueError("unknown language or moment")
    in_app = has_app_context()
    calendar = calendar or (current().workdays if in_app else
                            WorkingDayCalendar(settings.closure_days, settings.liberation_day_always_off))
    window = callback_window(now, moment, calendar, OfficeHours(settings.office_opens, settings.office_closes),
                             settings.tz)
    request_id = take(session, Choices(number=number, number_typed_in=True, caller_number=None, language=language,
                                       moment=moment, may_identify=may_identify, wants_confirmation=False,
                                       call_sid=None), window)
    refused: Refusal | None = None
    if wants_confirmation:
        refused = confirmation_refused(
            session, number, address, limits or public_limits(),
            may_text or (current_app.extensions.get(MAY_TEXT, any_number) if in_app else any_number))
    texted = wants_confirmation and refused is None
    changes: dict[str, object] = {"wants_confirmation": True} if texted else {}
    if case_id is not None:
        changes["case_id"] = case_id
    if changes:
        session.connection().execute(update(_TABLE).where(_TABLE.c.id == request_id).values(**changes))
    publish(session, CallbackRequested(callback_id=request_id, caller_number=number if texted else None,
                                       language=language, wants_confirmation=texted, window_start=window.start,
                                       window_end=window.end))
    return WebRequest(request_id, window, texted, refused)
