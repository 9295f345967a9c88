"""sim_board_year_unattended_seconds: the whole simulated board (firmware, asyncio app,
drivers, log on its flash folder) stepped through a year of bone-health with nobody
pressing, in the real MicroPython runtime: every reminder, escalation and missed dose of
the year is evaluated and logged. Presses are left out because each dispense moves the
servos in real time (about a second)."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from dispenser.logstore import LogStore
from pillctl.schedule import compile_file
from pillctl.sim.firmware_image import ROOT, install_source
from pillctl.sim.process import SimProcess

START = datetime(2026, 11, 30, tzinfo=UTC)
YEAR_S = 365 * 86400


def sim_board_year_unattended_seconds():
    with tempfile.TemporaryDirectory() as tmp:
        fs = Path(tmp) / "board" / "fs"
        schedule = compile_file(ROOT / "schedules" / "bone-health.toml", start=date(2026, 11, 30))
        install_source(fs, schedule=schedule)
        args = ("--time", START.isoformat(), "--speed", "0")
        with SimProcess(Path(tmp) / "board", *args) as board:
            assert board.control is not None
            started = time.perf_counter()
            board.control.step_to(START.timestamp() + YEAR_S, timeout=600)
            elapsed = time.perf_counter() - started
        last = list(LogStore(str(fs / "log")).records())[-1]
    if last[1] < START.timestamp() + YEAR_S - 2 * 86400:
        raise RuntimeError("the board's log does not reach the end of the year")
    return "sim_board_year_unattended_seconds", round(elapsed, 2), "s"


FIGURES = [sim_board_year_unattended_seconds]
