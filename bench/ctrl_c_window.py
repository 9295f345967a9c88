"""ctrl_c_window_us: how long a Ctrl-C can still stop the app once main.py runs, i.e. the
time main.py's first statements take until `micropython.kbd_intr(-1)` has returned
(docs/safety-rules.md, "Threat model"). Measured on the unix port the sim runs, with the
very statements of firmware/main.py; the worst of RUNS fresh interpreters. A Pico's RP2040
is slower (estimated: about 0.1 ms); MicroPython arms Ctrl-C only after compiling main.py,
so compiling is not part of the window.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from pillctl.micropython import micropython_command
from pillctl.sim.firmware_image import ROOT

RUNS = 20
LOCK_LINES = ("import micropython", "micropython.kbd_intr(-1)")


def _prologue() -> str:
    """main.py's statements up to the lock, as they stand (fails if main.py lost them)."""
    lines = [line.strip() for line in (ROOT / "firmware" / "main.py").read_text().splitlines()]
    for wanted in LOCK_LINES:
        if wanted not in lines:
            raise RuntimeError(f"firmware/main.py no longer runs {wanted!r}")
    return "\n".join(LOCK_LINES)


def ctrl_c_window_us():
    script = (
        "import time\n_t0 = time.ticks_us()\n"
        + _prologue()
        + "\nprint(time.ticks_diff(time.ticks_us(), _t0))\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "window.py"
        path.write_text(script)
        runs = [
            int(subprocess.run([*micropython_command(), str(path)], capture_output=True,
                               text=True, check=True, timeout=30).stdout)
            for _ in range(RUNS)
        ]  # fmt: skip
    return "ctrl_c_window_us", max(runs), "us (worst, unix port)"


FIGURES = [ctrl_c_window_us]
