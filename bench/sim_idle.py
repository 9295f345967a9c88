"""idle_cpu_percent: CPU use of an idle simulated board (headless, real-time clock) over 10 s.

Counts the sim runner and the MicroPython process together, from /proc, so any busy polling
on either side shows. Target: under 1 %.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from pillctl.sim.process import SimProcess

MEASURE_S = 10.0
WARM_UP_S = 2.0


def _descendants(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        for child in children:
            found += _descendants(int(child))
    return found


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def idle_cpu_percent():
    with tempfile.TemporaryDirectory() as tmp, SimProcess(Path(tmp) / "board") as board:
        assert board.process is not None
        time.sleep(WARM_UP_S)
        pids = _descendants(board.process.pid)
        cpu_before, wall_before = _cpu_seconds(pids), time.monotonic()
        time.sleep(MEASURE_S)
        cpu = _cpu_seconds(pids) - cpu_before
        wall = time.monotonic() - wall_before
    return "idle_cpu_percent", round(100 * cpu / wall, 2), "%"


FIGURES = [idle_cpu_percent]
