"""The time the phone line believes it is.

Whether the line is open, when it opens next and which window a caller is
promised all hang on "now". Views ask this module instead of the system
clock, so tests can walk a Friday evening or Easter Monday by setting
`app.config["PENDEL_NOW"]` (an aware datetime, or a callable returning one).
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import current_app, has_app_context

from core.db import utcnow

CONFIG_KEY = "PENDEL_NOW"


def now() -> datetime:
    """The configured moment in tests, else the real time (always UTC-aware)."""
    if has_app_context():
        fixed: datetime | Callable[[], datetime] | None = current_app.config.get(CONFIG_KEY)
        if fixed is not None:
            moment = fixed() if callable(fixed) else fixed
            if moment.tzinfo is None:
                raise ValueError(f"{CONFIG_KEY} must be timezone-aware")
            return moment
    return utcnow()
