"""Telephony's periodic work: purge stale call states and finished callback requests, hourly.

The loop is core/periodic.py; what is kept how long is telephony/retention.py.
"""
from __future__ import annotations

from datetime import timedelta

from core.periodic import Tick
from core.plugins import PeriodicTask

PHONE_PURGE_LOCK = 0x50454E44_0005  # "PEND" + 5: an advisory lock key of our own (core/periodic.py)
PHONE_PURGE_EVERY = timedelta(hours=1)


def _purge_phone_records(tick: Tick) -> int:
    from telephony.retention import purge_phone_records

    calls, requests = purge_phone_records(tick.session, tick.now, tick.settings.retention_days)
    return tick.count("phone line call states", calls) + tick.count("callback requests", requests)


PURGE_PHONE_RECORDS = PeriodicTask("purge-phone-records", PHONE_PURGE_LOCK, _purge_phone_records,
                                   every=PHONE_PURGE_EVERY)
PERIODIC = (PURGE_PHONE_RECORDS,)
