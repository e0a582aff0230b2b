"""Staff on duty: whose phones ring when a caller presses 1 during office hours.

A staff account carries its own phone number and an on-duty switch. Going on
duty needs a number (the line cannot ring nobody's phone); removing the
number takes the person off duty. At most `MAX_RINGING` phones ring at once:
Twilio's `<Dial>` takes ten numbers.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import record
from core.models import User
from core.problems import InvalidInput
from scheduler.contact import normalize_phone

MAX_RINGING = 10


def on_duty(session: Session) -> list[User]:
    """Active staff on duty with a phone, in a stable order (the first ten ring)."""
    return list(session.scalars(select(User).where(User.on_duty.is_(True), User.active.is_(True),
                                                   User.phone.is_not(None))
                                .order_by(User.id).limit(MAX_RINGING)))


def set_duty(session: Session, actor: User, user: User, changes: dict[str, Any]) -> User:
    """Apply `phone` and/or `on_duty` from `changes` (only the keys present change)."""
    if "phone" in changes:
        raw = changes["phone"]
        user.phone = normalize_phone(raw, "phone") if raw else None
        if user.phone is None:
            user.on_duty = False
    if "on_duty" in changes:
        if changes["on_duty"] and not user.phone:
            raise InvalidInput("on_duty", "needs a phone number first: the line rings that number")
        user.on_duty = bool(changes["on_duty"])
    record(session, actor.id, "user.duty", "user", user.id, detail=f"on_duty={user.on_duty}")
    return user
