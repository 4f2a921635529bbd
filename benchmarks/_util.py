"""Timing and peak-memory helpers for the benchmarks."""
from __future__ import annotations

import resource
import time
import tracemalloc
from contextlib import contextmanager


@contextmanager
def timed(results: dict, key: str, *, trace_memory: bool = False):
    if trace_memory:
        tracemalloc.start()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        results[key] = time.perf_counter() - t0
        if trace_memory:
            results[key + "_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def header(title: str):
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))
