"""Running the bench's drivers (bench/_mp_*.py) in the MicroPython unix port.

The firmware is compiled by mpy-cross as `pillctl flash` compiles it (host/pillctl/mpy.py):
compiling .py sources on the device would measure the compiler's heap, not the firmware's.
A driver prints one JSON line. When it fails, the error says what MicroPython said: the
unix port prints an uncaught exception's traceback to stdout, not stderr.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from pillctl.micropython import micropython_command
from pillctl.mpy import compile_mpy

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


@cache
def compiled_firmware() -> str:
    """A folder holding firmware/dispenser compiled to .mpy (removed at exit)."""
    out = Path(tempfile.mkdtemp(prefix="dispenser-mpy-"))
    atexit.register(shutil.rmtree, out, True)
    firmware = ROOT / "firmware"
    for source in (firmware / "dispenser").rglob("*.py"):
        name = source.relative_to(firmware)
        compile_mpy(source, out / name.with_suffix(".mpy"), str(name))
    return str(out)


def run(*args: str, heap_kb: int | None = None) -> subprocess.CompletedProcess:
    """`micropython [-X heapsize=...] args...` with the compiled firmware on its path (a
    driver imports its siblings from its own folder); returns the finished process."""
    heap = ["-X", f"heapsize={heap_kb}K"] if heap_kb else []
    return subprocess.run(
        [*micropython_command(), *heap, *args],
        capture_output=True,
        text=True,
        env={"MICROPYPATH": f".frozen:{compiled_firmware()}"},
        timeout=600,
    )


def failure(result: subprocess.CompletedProcess) -> str:
    """What a failed run said: its traceback (stdout on the unix port) and stderr."""
    said = "\n".join(part.strip() for part in (result.stdout, result.stderr) if part.strip())
    return f"MicroPython exited with {result.returncode}:\n" + (said[-2000:] or "(no output)")


def json_line(*args: str, heap_kb: int | None = None) -> dict:
    """The JSON line a driver prints last; RuntimeError with MicroPython's own words if the
    driver failed or printed none."""
    result = run(*args, heap_kb=heap_kb)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(failure(result))
    try:
        return json.loads(lines[-1])
    except ValueError:
        raise RuntimeError(failure(result)) from None
