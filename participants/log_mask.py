"""Participants' tokens never reach a log: `/a/<token>` is masked wherever request paths are logged.

The page's own paths (/a/, /a/coming, /a/calendar.ics, ...) carry no token and stay readable.
"""
from __future__ import annotations

import re

from flask import Flask

from core.log_masks import PathMask, install_path_mask

_PAGES = ("coming", "cannot-come", "stop", "choose", "call-me", "calendar.ics")
_LINK_PATH = re.compile(r"/a/(?!(?:" + "|".join(re.escape(p) for p in _PAGES) + r")(?:[\s\"'?#/]|$))[^\s\"'?#/]+")
LINK_MASK = PathMask("participant-links", "/a/", _LINK_PATH, "/a/***")


def install_link_log_mask(app: Flask) -> None:
    install_path_mask(LINK_MASK, app)
