"""Started by Python in a test's child process whose PYTHONPATH names this folder.

With PENDEL_TEST_CLOCK_OFFSET_DAYS set, the process runs on the suite's moved
clock (see `tests.support.clock_offset`). A `sitecustomize` that this file
shadows on sys.path still runs, after it.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

from offset_clock import ENV_VAR, start_offset_clock


def _run_shadowed_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


if os.environ.get(ENV_VAR):
    start_offset_clock(float(os.environ[ENV_VAR]))
_run_shadowed_sitecustomize()
