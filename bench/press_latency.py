"""press_to_servo_ms: button release (when a short press is recognised) to the first servo
pulse, on the sim board's trace. Target: under 50 ms. Median of several presses, each in a
fresh dose window so each one dispenses."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pillctl.schedule import compile_file
from pillctl.sim.firmware_image import ROOT, install_source
from pillctl.sim.process import SimProcess

PRESS_MS = 150
DAYS = 5


FIRST = date(2026, 11, 30)


def bone_health_schedule() -> bytes:
    return compile_file(ROOT / "schedules" / "bone-health.toml", start=FIRST)


def median_press_ms(control) -> float:
    """Median press-to-servo time over DAYS lunches on a board whose clock starts at FIRST."""
    samples = []
    zone = ZoneInfo("Europe/Berlin")
    for day in range(DAYS):
        d = FIRST + timedelta(days=day)
        lunch = datetime(d.year, d.month, d.day, 12, 35, tzinfo=zone)
        control.step_to(lunch.astimezone(UTC).timestamp())
        sent = time.time()
        since = control.press(PRESS_MS)
        released = max(sent + PRESS_MS / 1000, time.time() - 0.002)
        moved = control.wait_for("servo.0", since, timeout=5)
        if moved is not None:
            samples.append((moved["host_time"] - released) * 1000)
        time.sleep(2.5)
    if not samples:
        raise RuntimeError("no dispense seen")
    return round(statistics.median(samples), 1)


def press_to_servo_ms():
    with tempfile.TemporaryDirectory() as tmp:
        install_source(Path(tmp) / "board" / "fs", schedule=bone_health_schedule())
        with SimProcess(Path(tmp) / "board", "--time", "2026-11-30T00:00:00+00:00") as board:
            assert board.control is not None
            return "press_to_servo_ms", median_press_ms(board.control), "ms"


FIGURES = [press_to_servo_ms]
