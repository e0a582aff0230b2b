"""Measurement for the benchmarks: interleaved timing runs, their median and min, cProfile."""
from __future__ import annotations

import cProfile
import gc
import io
import pstats
import statistics
import time as clock
from typing import Callable, Sequence


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def stats(samples: Sequence[float]) -> tuple[float, float]:
    return statistics.median(samples), min(samples)


def measure(fns: dict[str, Callable[[], object]], runs: int, warmups: int) -> dict[str, tuple[float, float]]:
    """Median and min per function; runs are interleaved so drift hits all alike."""
    for _ in range(warmups):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    # The bench's own heap (the fill plan) must not make the garbage collector's full passes
    # slower than they would be in the app: collect, then exempt what is alive now.
    gc.collect()
    gc.freeze()
    for _ in range(runs):
        for name, fn in fns.items():
            t0 = clock.perf_counter()
            fn()
            samples[name].append(clock.perf_counter() - t0)
    return {name: stats(values) for name, values in samples.items()}


def profile(fn: Callable[[], object], runs: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())
