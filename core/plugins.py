"""How a domain package plugs itself into Pendel without core knowing it.

Each package (scheduler, telephony, calendars, notifications) exposes one
`PLUGIN` in its `plugin.py`; `composition.py` beside app.py lists them, and
app.py and worker.py walk that list. Core reads only this dataclass: it never
imports a domain package (tests/unit/test_core_boundary.py fails if it does).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from flask import Flask

    from core.config import Settings
    from core.events import EventBus
    from core.periodic import Tick
    from core.runtime import Runtime


@dataclass(frozen=True)
class NavItem:
    """A link in the staff pages' header; `label` a lazy_gettext string, translated when shown."""

    endpoint: str
    label: Any
    order: int = 50
    roles: tuple[str, ...] = ()  # empty: every signed-in user


@dataclass(frozen=True)
class PeriodicTask:
    """Work the periodic loop (core/periodic.py) runs every `every`, once across all processes.

    `run(tick)` gets the tick's session (its transaction holds the advisory lock `lock_key` on
    PostgreSQL: a key no other task uses), `now`, the settings and the loop's queue; it returns how
    much it did (or None). A result of `backlog` or more means more is waiting: the loop turns
    again at once instead of waiting its interval.
    """

    name: str
    lock_key: int
    run: Callable[[Tick], int | None]
    every: timedelta = timedelta(0)  # 0: every turn of the loop (two seconds)
    backlog: int | None = None


@dataclass(frozen=True)
class Plugin:
    name: str
    model_modules: tuple[str, ...] = ()          # imported so the metadata (and Alembic) sees every table
    job_modules: tuple[str, ...] = ()            # loaded before a worker forks (core/preload.py)
    install_web: Callable[[Flask], None] | None = None       # blueprints, context processors, labels
    nav: tuple[NavItem, ...] = ()
    register_commands: Callable[[Flask], None] | None = None  # `flask --app app ...`
    subscribe: Callable[[EventBus, Settings], None] | None = None  # domain-event handlers
    prepare_worker: Callable[[Runtime], None] | None = None   # warm-up before a fork (core/preload.py)
    periodic: tuple[PeriodicTask, ...] = ()      # the periodic loop's work (core/periodic.py)
    extra: dict[str, Any] = field(default_factory=dict)
