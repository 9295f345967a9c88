"""app_min_heap_kb: the smallest heap in which the WHOLE firmware (asyncio app, drivers,
serial commands, log on flash), as `pillctl flash` deploys it (.mpy), runs a simulated
30 days on the sim board: a schedule push, a press every few days, every reminder and
missed dose, and a status at the end, with no MemoryError, crash or watchdog reset.

The unix port is a 64-bit build: objects and GC blocks are twice the size they are on
the Pico's 32-bit RP2040, so this overstates what a Pico needs. `min_heap_kb` measures the
pure core alone.

app_idle_heap_kb: the heap the running app holds in its steady state, the figure issue 8
caps (measured on a real rp2 port at about 77 KB): the same flashed firmware, bone-health
installed and the hoppers filled, booted again from the flash (power cycle), idle between
meals; `status` reports `gc.mem_alloc()` after a `gc.collect()`, so the figure is what is
live while a command runs. Smallest of a few readings; 64-bit, so about twice a Pico's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pillctl.device import open_device
from pillctl.errors import PillctlError
from pillctl.schedule import compile_file
from pillctl.sim.firmware_image import ROOT
from pillctl.sim.process import SimProcess
from pillctl.transfer import push_schedule

START = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
DAYS = 30
PRESS_EVERY = 10
LUNCH_UTC_H = 11.6  # 12:36 in Berlin, inside the lunch window
TRIAL_LIMIT_S = 120


def _flashed_flash(tmp: Path, board_name: str = "sim") -> Path:
    """A flash folder as `pillctl flash --board sim` (or sim_w) leaves it (.mpy modules)."""
    with SimProcess(tmp / "template", "--blank") as board:
        subprocess.run(
            [sys.executable, "-m", "pillctl", "flash", "--board", board_name, "--port", board.port],
            check=True,
            capture_output=True,
        )
        board.control.power(False)
    shutil.rmtree(tmp / "template" / "fs" / "log", ignore_errors=True)
    return tmp / "template" / "fs"


def _month_runs(template: Path, workdir: Path, heap_kb: int) -> bool:
    shutil.copytree(template, workdir / "fs")
    schedule = compile_file(ROOT / "schedules" / "bone-health.toml")
    args = ("--blank", "--heap", f"{heap_kb}K", "--time", "2026-11-30T12:00:00+00:00")
    try:
        with SimProcess(workdir, *args, "--speed", "0") as board:
            control = board.control
            assert control is not None
            with open_device(board.port, timeout=5) as device:
                push_schedule(device, schedule)
            presses = 0
            for day in range(DAYS):
                control.step_to(START + day * 86400 + LUNCH_UTC_H * 3600, timeout=30)
                if day % PRESS_EVERY == 0:
                    control.press()
                    time.sleep(2.5)
                    presses += 1
            control.step_to(START + DAYS * 86400, timeout=30)
            with open_device(board.port, timeout=5) as device:
                status = device.request("status")
            trouble = [e for e in control.trace(0) if e["kind"] == "sim" and e["name"] != "boot"]
            moves = [e for e in control.trace(0) if e["name"] == "servo.0" and e["value"] != "0"]
    except PillctlError:
        return False
    return not trouble and status["t"] >= START + DAYS * 86400 - 60 and len(moves) >= presses


def app_min_heap_kb():
    with tempfile.TemporaryDirectory() as tmp:
        template = _flashed_flash(Path(tmp))
        low, high = 64, 512  # low is assumed to fail, high must pass
        trial = 0

        def runs(kb: int) -> bool:
            nonlocal trial
            trial += 1
            return _month_runs(template, Path(tmp) / f"trial{trial}", kb)

        if not runs(high):
            raise RuntimeError(f"the firmware does not run a month even in {high} KB")
        while high - low > 8:
            mid = (low + high) // 2
            if runs(mid):
                high = mid
            else:
                low = mid
    return "app_min_heap_kb", high, "KB"


IDLE_START = "2026-12-01T15:00:00+00:00"  # a Tuesday, 16:00 in Berlin: between meals
IDLE_READINGS = 5


def idle_heap_bytes(template: Path, workdir: Path) -> int:
    """status's mem.used on a board booted from `template` (a flashed flash folder) with
    bone-health installed, the hoppers filled, after a power cycle; the smallest reading."""
    shutil.copytree(template, workdir / "fs")
    schedule = compile_file(ROOT / "schedules" / "bone-health.toml")
    with SimProcess(workdir, "--blank", "--time", IDLE_START, "--speed", "0") as board:
        control = board.control
        assert control is not None
        with open_device(board.port, timeout=5) as device:
            push_schedule(device, schedule)
            for hopper in range(3):
                device.request("refill", {"hopper": hopper, "count": 30})
        # Boot again from the flash: nothing of the push (its buffers, the check) is left.
        control.power(False)
        control.power(True)
        control.step_to(datetime.fromisoformat(IDLE_START).timestamp() + 600, timeout=30)
        readings = []
        with open_device(board.port, timeout=5) as device:
            for _ in range(IDLE_READINGS):
                status = device.request("status")
                assert status.get("schedule"), status
                readings.append(status["mem"]["used"])
                time.sleep(0.3)
    return min(readings)


def app_idle_heap_kb():
    with tempfile.TemporaryDirectory() as tmp:
        template = _flashed_flash(Path(tmp))
        used = idle_heap_bytes(template, Path(tmp) / "idle")
    return "app_idle_heap_kb", round(used / 1024, 1), "KB"


FIGURES = [app_idle_heap_kb, app_min_heap_kb]
