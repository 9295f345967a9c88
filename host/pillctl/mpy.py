"""mpy-cross: compiles MicroPython sources to .mpy, the form a board loads fastest.

One implementation for `pillctl flash` and `tools/build_mpy.py` (the size figure).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pillctl.errors import PillctlError
from pillctl.executables import require_tool


class MpyCrossError(PillctlError):
    """A source file did not compile."""


def compile_mpy(source: Path, target: Path, name: str, march: str | None = None) -> None:
    """Compile `source` to `target`; `name` is the path tracebacks show (as on the device).

    `march` matters only for native code; bytecode runs on any port of the same .mpy version.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    argv = [require_tool("mpy-cross"), "-o", str(target), "-s", name, str(source)]
    if march:
        argv.insert(1, f"-march={march}")
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise MpyCrossError(f"mpy-cross failed on {source}: {result.stderr.strip()}")
