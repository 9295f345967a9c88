"""Helpers for end-to-end tests on the simulated board: boards with a schedule installed,
servo moves read from the trace, and the log read straight from the board's flash."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from conftest import ROOT

from dispenser import logrec
from dispenser.logstore import LogStore
from pillctl.schedule import compile_file
from pillctl.sim.firmware_image import install_source
from pillctl.sim.process import SimProcess

SCHEDULES = ROOT / "schedules"
DAY = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
START = DAY.date()  # the compile day of every schedule here


def utc(hour: int, minute: int = 0, days: int = 0) -> float:
    """UTC epoch seconds of hour:minute UTC (minute may pass 59), `days` after DAY."""
    return DAY.timestamp() + ((days * 24 + hour) * 60 + minute) * 60


@contextmanager
def board_with(
    workdir: Path,
    schedule: bytes | None,
    *args: str,
    time_iso: str | None = "2026-11-30T05:00:00+00:00",
) -> Iterator[SimProcess]:
    """A sim board with the source firmware and `schedule` (compiled bytes) on its flash,
    its clock paused at `time_iso` (None: the sim's default, unknown and running)."""
    install_source(workdir / "fs", schedule=schedule)
    clock = ("--time", time_iso, "--speed", "0") if time_iso else ()
    with SimProcess(workdir, *clock, *args) as board:
        yield board


def compiled(name_or_path: str | Path, start: date = START) -> bytes:
    """A schedule (a name in schedules/ or a TOML path) compiled as of `start`."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCHEDULES / f"{name_or_path}.toml"
    return compile_file(path, start=start)


def servo_moves(board, since: int) -> list[str]:
    """The servos that left the released state (one entry per actuation) since `since`."""
    return board.control.servo_moves(since)


def press_and_settle(board) -> int:
    since = board.control.press()
    time.sleep(2.5)  # ramps, the drop sensor and the release all finish well within this
    return since


def log_records(board) -> list[dict]:
    return [logrec.as_dict(r) for r in LogStore(str(board.fs / "log")).records()]


def kinds(records: list[dict]) -> list[str]:
    return [r["kind"] for r in records]
