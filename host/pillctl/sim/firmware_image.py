"""What the sim's flash holds when it starts pre-flashed: the source firmware and board file."""

from __future__ import annotations

import shutil
from pathlib import Path

from dispenser.schedstore import SCHEDULE_PATH

ROOT = Path(__file__).resolve().parents[3]
FIRMWARE = ROOT / "firmware"
BOARDS = ROOT / "boards"
HOST_ONLY = {"cpython_shim.py"}  # CPython stand-ins: never deployed to a board
# The caregiver alerts (dispenser/net) go only onto boards with Wi-Fi: a Pico's flash and
# `pillctl flash` time are not spent on code it can never run.
WIFI_BOARDS = {"pico_w", "sim_w"}


def firmware_files(board: str) -> list[tuple[Path, str]]:
    """(source file, path on the device) for the firmware and the given board's files."""
    files: list[tuple[Path, str]] = [(FIRMWARE / "main.py", "main.py")]
    for source in sorted((FIRMWARE / "dispenser").rglob("*.py")):
        wifi_only = source.parent.name == "net"
        if source.name not in HOST_ONLY and (board in WIFI_BOARDS or not wifi_only):
            files.append((source, source.relative_to(FIRMWARE).as_posix()))
    files.append((BOARDS / f"{board}.py", "board.py"))
    if board == "sim_w":  # the simulated Pico W extends the sim board
        files.append((BOARDS / "sim.py", "sim.py"))
    elif board != "sim":
        files.append((BOARDS / "rp2common.py", "rp2common.py"))
    return files


def install_source(fs: Path, board: str = "sim", schedule: bytes | None = None) -> None:
    """Copy the source firmware onto a sim flash folder (made if need be), replacing any
    older copy; with `schedule` (compiled bytes), install that schedule too."""
    fs.mkdir(parents=True, exist_ok=True)
    if schedule is not None:
        (fs / SCHEDULE_PATH).write_bytes(schedule)
    stale = fs / "dispenser"
    if stale.exists():
        shutil.rmtree(stale)
    for source, target in firmware_files(board):
        dest = fs / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
