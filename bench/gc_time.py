"""A pytest plugin: the time Python's cyclic garbage collector takes in a test run, by
generation (README's Development section: why tests/conftest.py raises its thresholds).

    python -m pytest -n0 -p bench.gc_time tests/test_discovery.py
    GC_THRESHOLD=700,10,10 python -m pytest -n0 -p bench.gc_time tests/test_discovery.py

``GC_THRESHOLD`` sets the thresholds after tests/conftest.py has set its own (700,10,10 is
Python's default). Each process (``-n0``: one) prints its line at the end of the run.
"""

from __future__ import annotations

import gc
import os
import time

import pytest

_took = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}  # generation -> [collections, seconds]
_started: list[float] = []


def _timed(phase: str, info: dict) -> None:
    if phase == "start":
        _started[:] = [time.perf_counter()]
    elif _started:
        took = _took[info["generation"]]
        took[0] += 1
        took[1] += time.perf_counter() - _started[0]


@pytest.hookimpl(trylast=True)
def pytest_configure(config) -> None:
    if os.environ.get("GC_THRESHOLD"):
        gc.set_threshold(*(int(x) for x in os.environ["GC_THRESHOLD"].split(",")))
    gc.callbacks.append(_timed)


def pytest_terminal_summary(terminalreporter) -> None:
    by_gen = ", ".join(f"generation {g}: {n} in {s:.1f} s" for g, (n, s) in _took.items())
    terminalreporter.write_line(f"garbage collector at {gc.get_threshold()}: {by_gen}; "
                                f"{sum(s for _, s in _took.values()):.1f} s in all")
