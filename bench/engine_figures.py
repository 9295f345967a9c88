"""Figures of the dispensing engine and its log, measured in the real MicroPython unix port.

All three run bench/_mp_sim_driver.py on the default schedule (bone-health): presses at
every meal, refills after each low-stock warning, time stepped with next_wake. The firmware
runs as .mpy, compiled by mpy-cross like a deployed Pico's: compiling .py sources on the
device would measure the compiler's heap, not the firmware's.
"""

from __future__ import annotations

import tempfile
import time

from bench.micropython_run import BENCH, ROOT, json_line, run

DRIVER = BENCH / "_mp_sim_driver.py"
SCHEDULE = ROOT / "tests" / "data" / "device" / "bone-health.json"
YEAR_BUDGET = 1 << 20  # large enough that nothing rotates away: count every byte written
DEVICE_BUDGET = 65536


def _args(log_dir: str, days: int, budget: int) -> list[str]:
    return [str(DRIVER), str(SCHEDULE), log_dir + "/log", str(days), str(budget)]


def _figures(days: int, budget: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="dispenser-bench-") as tmp:
        return json_line(*_args(tmp, days, budget))


def _runs_in(heap_kb: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="dispenser-bench-") as tmp:
        return run(*_args(tmp, 30, DEVICE_BUDGET), heap_kb=heap_kb).returncode == 0


def log_year_kb():
    written = _figures(365, YEAR_BUDGET)["written"]
    return "log_year_kb", round(written / 1024, 1), "KB"


def sim_year_seconds():
    start = time.perf_counter()
    _figures(365, DEVICE_BUDGET)
    return "sim_year_seconds", round(time.perf_counter() - start, 2), "s"


def min_heap_kb():
    low, high = 4, 256  # low fails, high must pass
    with tempfile.TemporaryDirectory(prefix="dispenser-bench-") as tmp:
        json_line(*_args(tmp, 30, DEVICE_BUDGET), heap_kb=high)  # if not, MicroPython says why
    while high - low > 1:
        mid = (low + high) // 2
        if _runs_in(mid):
            high = mid
        else:
            low = mid
    return "min_heap_kb", high, "KB"


FIGURES = [log_year_kb, sim_year_seconds, min_heap_kb]
