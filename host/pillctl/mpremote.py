"""Runs the real `mpremote` against a board, always with `resume`.

`resume` matters: without it mpremote soft-resets the board (Ctrl-D), which restarts our
firmware in the middle of a deploy. The running app ignores mpremote's Ctrl-C and raw REPL
request: its REPL answers only in maintenance mode (`pillctl maintenance` and a hold at the
device, pillctl/unlock.py), and a failure to reach it says so in one line.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable

from pillctl.errors import PillctlError
from pillctl.executables import require_tool
from pillctl.unlock import locked_hint

DEFAULT_TIMEOUT_S = 120


class Mpremote:
    """mpremote bound to one port; each call is one `mpremote connect PORT resume ...`."""

    def __init__(self, port: str) -> None:
        self.port = port
        self._argv = [require_tool("mpremote"), "connect", port, "resume"]

    def run(self, *args: str, timeout: float = DEFAULT_TIMEOUT_S) -> str:
        """Run one (possibly `+`-chained) command line; returns its stdout, raises on failure."""
        return self.stream(list(args), lambda _line: None, timeout)

    def stream(
        self, args: list[str], on_line: Callable[[str], None], timeout: float = DEFAULT_TIMEOUT_S
    ) -> str:
        """As run(), calling `on_line` with each stdout line as mpremote prints it."""
        process = subprocess.Popen(
            [*self._argv, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Line by line as it happens, so progress shows while files copy.
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        # A board that stops answering mid-transfer must not hang the CLI forever.
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            assert process.stdout is not None and process.stderr is not None
            lines = []
            for line in process.stdout:
                lines.append(line)
                on_line(line.rstrip("\n"))
            errors = process.stderr.read()
            returncode = process.wait()
        finally:
            killer.cancel()
        if returncode != 0:
            if "could not enter raw repl" in errors:  # the dispenser app runs, locked
                raise PillctlError(locked_hint(self.port))
            what = " ".join(args)[:60]
            reason = errors.strip().splitlines()[-1] if errors.strip() else f"exit {returncode}"
            if returncode < 0:
                reason = f"no progress within {timeout:g} s"
            raise PillctlError(f"mpremote {what} on {self.port} failed: {reason}")
        return "".join(lines)
