"""Which MicroPython a board runs, read over its raw REPL before `pillctl flash` writes
anything, and whether the firmware's .mpy files will load there.

A .mpy file loads only where its major .mpy version matches (`sys.implementation._mpy`,
low byte); the sub-version matters only for files marked with a native architecture. So a
board with another 6.x gets plain bytecode (no -march), and one with another major version,
or older than OLDEST_MICROPYTHON, is refused with how to update it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from pillctl.errors import PillctlError
from pillctl.mpremote import Mpremote
from pillctl.mpy import mpy_cross_command

# The oldest release the firmware supports: asyncio under that name (1.21) and .mpy v6.1.
OLDEST_MICROPYTHON = (1, 22, 0)
UPDATE_HINT = (
    "hold BOOTSEL while plugging the Pico in, copy the newest .uf2 from "
    "micropython.org/download onto the drive that appears, then flash again"
)

# Run on the board: its version, .mpy version and the board file our firmware installed
# (board.py's NAME; none on a blank board). Prints one line for read_board_info.
_PROBE = """import sys
try:
    import board
    name = board.NAME
except Exception:
    name = '-'
i = sys.implementation
print('PILLCTL-INFO', '.'.join(str(v) for v in i.version[:3]), getattr(i, '_mpy', 0), name)
"""


@dataclass(frozen=True)
class BoardInfo:
    version: tuple[int, ...]
    mpy: int  # sys.implementation._mpy
    board: str | None

    @property
    def mpy_version(self) -> tuple[int, int]:
        return self.mpy & 0xFF, self.mpy >> 8 & 3

    @property
    def version_text(self) -> str:
        return ".".join(str(v) for v in self.version)


def parse_board_info(output: str) -> BoardInfo:
    for line in output.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] == "PILLCTL-INFO":
            version = tuple(int(v) for v in words[1].split("."))
            return BoardInfo(version, int(words[2]), None if words[3] == "-" else words[3])
    raise PillctlError(f"the board did not say which MicroPython it runs: {output.strip()[:80]}")


def read_board_info(mpremote: Mpremote) -> BoardInfo:
    return parse_board_info(mpremote.run("exec", _PROBE, timeout=30))


def mpy_cross_version() -> tuple[int, int]:
    """The .mpy version mpy-cross emits (`... mpy-cross emitting mpy v6.3`)."""
    result = subprocess.run(
        [mpy_cross_command(), "--version"], capture_output=True, text=True, check=False
    )
    found = re.search(r"mpy v(\d+)\.(\d+)", result.stdout)
    if found is None:
        raise PillctlError(f"cannot tell which .mpy version mpy-cross emits: {result.stdout!r}")
    return int(found[1]), int(found[2])


def check_micropython(port: str, info: BoardInfo, emitted: tuple[int, int]) -> bool:
    """Refuse a board whose MicroPython cannot run the firmware; else True when native
    (-march) .mpy files load there, False when it needs plain bytecode."""
    oldest = ".".join(str(v) for v in OLDEST_MICROPYTHON)
    if info.version < OLDEST_MICROPYTHON or info.mpy_version[0] != emitted[0]:
        major, sub = info.mpy_version
        raise PillctlError(
            f"{port} runs MicroPython {info.version_text} (.mpy v{major}.{sub}); the firmware "
            f"needs MicroPython {oldest} or newer (.mpy v{emitted[0]}): {UPDATE_HINT}"
        )
    return info.mpy_version == emitted
