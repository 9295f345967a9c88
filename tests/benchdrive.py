"""Driving `pillctl selftest` and `pillctl calibrate` on the simulated board as a person
would: each time the CLI says the device waits for the button, the sim's button is
pressed (or held), or deliberately not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable

from conftest import ROOT

# The board plays these edges with its own sleeps: a release it sees, then the press (a
# press right behind the previous step's release would be one long press to the board).
PRESS = [(1, 60), (0, 150), (1, 0)]
HOLD = [(1, 60), (0, 2300), (1, 0)]
WAITING = re.compile(r"\s+(\S+): waiting")


def drive(
    board, args: list[str], act: Callable[[str], None] | None = None, stdin: str | None = None
) -> tuple[int, str, str]:
    """Run `pillctl ARGS --port PORT`; at each `STEP: waiting` line (selftest) or `waiting
    for the button` (calibrate, step "calibrate"), call act(step), which by default
    presses. Returns (exit code, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "host"), COLUMNS="220")  # table rows unwrapped
    process = subprocess.Popen(
        [sys.executable, "-m", "pillctl", *args, "--port", board.port],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    if stdin is None:
        process.stdin.close()
    out = []
    for line in process.stdout:
        out.append(line)
        found = WAITING.match(line)
        step = found[1] if found else "calibrate" if line.startswith("waiting for") else None
        if step is None:
            continue
        (act or (lambda _step: board.control.button(PRESS)))(step)
        if stdin is not None and step == "calibrate":
            process.stdin.write(stdin)
            process.stdin.close()
    stderr = process.stderr.read() if process.stderr else ""
    return process.wait(timeout=120), "".join(out), stderr
