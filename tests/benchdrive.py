"""Driving `pillctl selftest` and `pillctl calibrate` on the simulated board as a person
would: each time the CLI says the device waits for the button, the sim's button is
pressed (or held), or deliberately not."""

from __future__ import annotations

import re
from collections.abc import Callable

from conftest import run_pillctl_acting

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
    presses; after a calibrate step, type `stdin` (then end it). Returns (exit code,
    stdout, stderr)."""

    def at_each_wait(line: str, process_stdin) -> None:
        found = WAITING.match(line)
        step = found[1] if found else "calibrate" if line.startswith("waiting for") else None
        if step is None:
            return
        (act or (lambda _step: board.control.button(PRESS)))(step)
        if process_stdin is not None and step == "calibrate":
            process_stdin.write(stdin)
            process_stdin.close()

    return run_pillctl_acting(
        *args,
        "--port",
        board.port,
        act=at_each_wait,
        keep_stdin=stdin is not None,
        env={"COLUMNS": "220"},  # table rows unwrapped
    )
