"""Prepare a forking worker's parent before it forks work horses.

RQ's `Worker` forks a child per job. Whatever the parent has not loaded, each
child loads again (job modules, SQLAlchemy mapper configuration, the Twilio
client's modules, compiled SQL, a channel's TLS context), and a lock another
thread of the parent holds at the moment of the fork stays locked forever in
the child. So the parent loads everything once, runs no threads of its own,
and freezes what it has so copy-on-write pages stay shared. What a horse
still pays for itself is measured by `bench/notifications.py --breakdown`.
"""
from __future__ import annotations

import gc
import importlib

from sqlalchemy.orm import configure_mappers

from core.db import utcnow
from core.runtime import Runtime

JOB_MODULES = ("notifications.jobs", "scheduler.jobs", "calendars.jobs")
LAZY_MODULES = ("urllib3.contrib.hface.protocols.http1", "email.mime.multipart", "smtplib")


def preload_for_fork(runtime: Runtime) -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)
    for name in LAZY_MODULES:  # what libraries import only at their first request
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    configure_mappers()
    from notifications.jobs import channels_for, warm_up

    for channel in channels_for(runtime.settings).values():  # clients built; no connection opened yet
        client = getattr(channel, "client", None)
        if client is not None:
            _ = client.messages  # twilio loads its REST API modules on first use
        prepare = getattr(channel, "prepare", None)
        if prepare is not None:
            prepare()
    with runtime.db.engine.connect() as conn:  # dialect set-up and the send job's SQL compiled, once
        with conn.begin() as transaction:
            warm_up(conn, runtime.settings, utcnow())
            transaction.rollback()
    runtime.db.dispose()  # ...and no pooled connection (in either pool) for the children to share
    gc.freeze()
