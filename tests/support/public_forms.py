"""Posting a public form in a test as a person would: with a start stamp from some seconds ago."""
from __future__ import annotations

import time

from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from core.public_forms import _SALT


def started_stamp(app: Flask, seconds_ago: float = 30) -> str:
    """The `started` value of a page served `seconds_ago` (signed now: only the stamped value is older)."""
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=_SALT).dumps(int(time.time() - seconds_ago))
