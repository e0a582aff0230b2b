"""Scheduler's periodic work: release holds and lapse offers that ran out, every minute; delete handled registrations
past retention and participants' links that can no longer work, and erase cases closed long enough ago, hourly
(the loop: core/periodic.py)."""
from __future__ import annotations

from datetime import timedelta

from core.periodic import Tick
from core.plugins import PeriodicTask

HOLDS_LOCK = 0x50454E44_0003  # "PEND" + 3: an advisory lock key of our own (core/periodic.py)
HOLDS_EVERY = timedelta(minutes=1)


def _expire_holds(tick: Tick) -> int:
    """Cancel holds that ran out, so they stop showing as held (bookings clear them on their own resources)."""
    from scheduler.holds import expire_holds

    return len(expire_holds(tick.session, tick.now))


EXPIRE_HOLDS = PeriodicTask("expire-holds", HOLDS_LOCK, _expire_holds, every=HOLDS_EVERY)


OFFERS_LOCK = 0x50454E44_0006  # "PEND" + 6


def _lapse_offers(tick: Tick) -> int:
    """Offers past their end, or with no free time left, lapse: their mediators get a task."""
    from scheduler.offers import lapse_due

    return lapse_due(tick.session, tick.now)


LAPSE_OFFERS = PeriodicTask("lapse-offers", OFFERS_LOCK, _lapse_offers, every=HOLDS_EVERY, backlog=100)
REGISTRATIONS_LOCK = 0x50454E44_0012  # "PEND" + 12 (7-11 left for others' work in progress)
REGISTRATIONS_EVERY = timedelta(hours=1)


def _purge_registrations(tick: Tick) -> int:
    """Registrations handled longer ago than RETENTION_DAYS go (the public page's privacy note promises it)."""
    from scheduler.registrations import purge_handled

    return tick.count("registrations", purge_handled(tick.session, tick.now, tick.settings.retention_days))


PURGE_REGISTRATIONS = PeriodicTask("purge-registrations", REGISTRATIONS_LOCK, _purge_registrations,
                                   every=REGISTRATIONS_EVERY)
LINKS_LOCK = 0x50454E44_0007  # "PEND" + 7


def _purge_links(tick: Tick) -> int:
    """Participants' links that can never work again go (their hashes name a participant and an appointment)."""
    from scheduler.links import purge_dead

    grace = timedelta(hours=tick.settings.participant_link_hours_after)
    return tick.count("participant links", purge_dead(tick.session, tick.now, grace))


PURGE_LINKS = PeriodicTask("purge-participant-links", LINKS_LOCK, _purge_links, every=REGISTRATIONS_EVERY)
ERASE_LOCK = 0x50454E44_0008  # "PEND" + 8
ERASE_BATCH = 20  # closed cases per tick; a full batch and the loop turns again at once


def _erase_closed_cases(tick: Tick) -> int:
    """Cases closed longer than CLOSED_CASE_ERASE_DAYS ago lose their personal data (scheduler.erasure)."""
    from scheduler.erasure import erase_closed_cases

    return erase_closed_cases(tick.session, tick.now, timedelta(days=tick.settings.closed_case_erase_days),
                              ERASE_BATCH, tick.count)


ERASE_CLOSED_CASES = PeriodicTask("erase-closed-cases", ERASE_LOCK, _erase_closed_cases,
                                  every=REGISTRATIONS_EVERY, backlog=ERASE_BATCH)
PERIODIC = (EXPIRE_HOLDS, LAPSE_OFFERS, PURGE_REGISTRATIONS, PURGE_LINKS, ERASE_CLOSED_CASES)
