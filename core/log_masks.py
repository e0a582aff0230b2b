"""Masks for secrets that must sit in a URL path (calendar feed tokens, participants' links).

Such a path reaches werkzeug's access log (the dev server), gunicorn's access and error logs and the app's
own logger. A `PathMask` filter on each rewrites any record whose text contains the path: werkzeug logs
the request line as an argument ('"%s" %s %s'), gunicorn as a dict of atoms, so the message is formatted
first and the record then carries the masked text with no arguments left. It never drops a record.
A reverse proxy in front must mask the same paths in its own log; that is deployment, not code.
"""
from __future__ import annotations

import logging
import re

from flask import Flask

PATH_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


class PathMask(logging.Filter):
    def __init__(self, name: str, marker: str, pattern: re.Pattern[str], replacement: str) -> None:
        super().__init__()
        self.mask_name, self.marker = name, marker.lower()
        self.pattern, self.replacement = pattern, replacement

    def mask(self, text: str) -> str:
        return self.pattern.sub(self.replacement, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's problem, not ours
            return True
        if self.marker in message.lower():
            masked = self.mask(message)
            if masked != message:
                record.msg, record.args = masked, None
        return True


def install_path_mask(mask: PathMask, app: Flask | None = None) -> None:
    """Put the mask on every logger that writes request paths (idempotent: create_app runs often in tests)."""
    loggers = [logging.getLogger(name) for name in PATH_LOGGERS]
    if app is not None:
        loggers.append(app.logger)
    for logger in loggers:
        if not any(isinstance(f, PathMask) and f.mask_name == mask.mask_name for f in logger.filters):
            logger.addFilter(mask)
