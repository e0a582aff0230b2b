"""Move a process's wall clock a number of days ahead (time-machine, ticking).

Shared by the pytest plugin (`tests.support.clock_offset`) and the
`sitecustomize` hook of the Python processes the tests start, so both move
their clocks the same way. Only the wall clock moves, not `time.monotonic`.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import time_machine

ENV_VAR = "PENDEL_TEST_CLOCK_OFFSET_DAYS"


def start_offset_clock(days: float) -> time_machine.travel:
    """Move this process's wall clock `days` ahead of the real one, ticking from now on."""
    travel = time_machine.travel(datetime.now(timezone.utc) + timedelta(days=days), tick=True)
    travel.start()
    time.time()  # time-machine starts ticking at the first reading: make that now, not later
    return travel
