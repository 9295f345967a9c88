"""Heap allocations per wake-up and per log record, measured in the MicroPython unix port.

A Pico's small integers are 31-bit, so every epoch-seconds value there is a heap object; the
64-bit unix port cannot show that (docs/sim.md). These figures count what the unix port does
allocate in the engine's wake-up and the log's append, so that a regression in either shows.
"""

from __future__ import annotations

import tempfile
from functools import cache

from bench.engine_figures import DRIVER, SCHEDULE
from bench.micropython_run import json_line

ALLOC_DRIVER = DRIVER.with_name("_mp_alloc_driver.py")
DAYS = 30


@cache  # one run gives both figures
def _measure() -> dict:
    with tempfile.TemporaryDirectory(prefix="dispenser-alloc-") as tmp:
        return json_line(str(ALLOC_DRIVER), str(SCHEDULE), tmp + "/log", str(DAYS))


def alloc_per_wake_bytes():
    figures = _measure()
    return "alloc_per_wake_bytes", round(figures["wake_bytes"] / figures["wakes"]), "B"


def alloc_per_record_bytes():
    figures = _measure()
    return "alloc_per_record_bytes", round(figures["record_bytes"] / figures["records"]), "B"


FIGURES = [alloc_per_wake_bytes, alloc_per_record_bytes]
