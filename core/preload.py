"""Prepare a forking worker's parent before it forks work horses.

RQ's `Worker` forks a child per job. Whatever the parent has not loaded, each
child loads again (job modules, SQLAlchemy mapper configuration, the Twilio
client's modules, compiled SQL, a channel's TLS context), and a lock another
thread of the parent holds at the moment of the fork stays locked forever in
the child. So the parent loads everything once, runs no threads of its own,
and freezes what it has so copy-on-write pages stay shared. The job modules
and the warm-up come from the plugins (`Plugin.job_modules`,
`Plugin.prepare_worker`). What a horse still pays for itself is measured by
`bench/notifications.py --breakdown`.
"""
from __future__ import annotations

import gc
import importlib
from typing import Iterable

from sqlalchemy.orm import configure_mappers

from core.plugins import Plugin
from core.runtime import Runtime

LAZY_MODULES = ("urllib3.contrib.hface.protocols.http1", "email.mime.multipart", "smtplib")


def preload_for_fork(runtime: Runtime, plugins: Iterable[Plugin]) -> None:
    """Load every plugin's job modules, then let each warm up (`prepare_worker`), then freeze."""
    plugins = tuple(plugins)
    for name in (module for plugin in plugins for module in plugin.job_modules):
        importlib.import_module(name)
    for name in LAZY_MODULES:  # what libraries import only at their first request
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    configure_mappers()
    for plugin in plugins:  # e.g. notifications: its channels' clients and the send job's SQL
        if plugin.prepare_worker is not None:
            plugin.prepare_worker(runtime)
    runtime.db.dispose()  # ...and no pooled connection (in either pool) for the children to share
    gc.freeze()
