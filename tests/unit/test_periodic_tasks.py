"""Each package brings its own periodic work; the composition gathers it, one lock key per task."""
from __future__ import annotations

from datetime import timedelta

import pytest

from composition import PLUGINS, periodic_tasks
from core.periodic import collect_tasks
from core.plugins import PeriodicTask, Plugin


def test_every_package_contributes_its_periodic_work() -> None:
    owners = {task.name: plugin.name for plugin in PLUGINS for task in plugin.periodic}
    assert owners == {"dispatch-messages": "notifications", "purge-messages": "notifications",
                      "expire-holds": "scheduler", "lapse-offers": "scheduler", "enqueue-calendar-syncs": "calendars",
                      "purge-phone-records": "telephony", "purge-registrations": "scheduler",
                      "purge-participant-links": "scheduler", "erase-closed-cases": "scheduler",
                      "delete-texts-at-provider": "notifications"}


def test_the_composed_tasks_run_most_frequent_first_with_their_own_lock_keys() -> None:
    tasks = periodic_tasks()
    assert tasks[0].name == "dispatch-messages" and tasks[0].every == timedelta(0) and tasks[0].backlog
    assert [t.every for t in tasks] == sorted(t.every for t in tasks)
    assert len({t.lock_key for t in tasks}) == len(tasks)
    every = {t.name: t.every for t in tasks}
    assert every["expire-holds"] == every["enqueue-calendar-syncs"] == timedelta(minutes=1)
    assert every["purge-messages"] == every["purge-phone-records"] == timedelta(hours=1)


def test_two_tasks_with_one_lock_key_or_name_are_refused() -> None:
    def run(tick):  # type: ignore[no-untyped-def]
        return 0

    a = Plugin("a", periodic=(PeriodicTask("one", 1, run),))
    with pytest.raises(ValueError, match="lock key: 1"):
        collect_tasks([a, Plugin("b", periodic=(PeriodicTask("two", 1, run),))])
    with pytest.raises(ValueError, match="name: one"):
        collect_tasks([a, Plugin("b", periodic=(PeriodicTask("one", 2, run),))])


def test_worker_preload_covers_every_plugins_job_modules() -> None:
    modules = {m for plugin in PLUGINS for m in plugin.job_modules}
    assert {"notifications.jobs", "scheduler.jobs", "calendars.jobs", "telephony.click_to_call"} <= modules
    assert any(plugin.prepare_worker is not None for plugin in PLUGINS if plugin.name == "notifications")
