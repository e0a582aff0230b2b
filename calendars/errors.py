"""How fetching a calendar fails: one exception, with a message fit for staff.

The message names what went wrong ("HTTP 500", "timed out after 15 s", "not
iCalendar", "larger than 5 MB", "address not allowed") and never the URL,
credentials or event text: it is stored on the source and shown in the API.
"""
from __future__ import annotations


class SourceError(Exception):
    """The source could not be read this time; its last good busy blocks stay."""
