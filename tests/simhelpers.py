"""Helpers for end-to-end tests on the simulated board: boards with a schedule installed,
servo moves read from the trace, and the log read straight from the board's flash."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from conftest import ROOT, run_pillctl_acting

from dispenser.core import logrec, protocol
from dispenser.logstore import LogStore
from pillctl.device import Device
from pillctl.errors import PillctlError
from pillctl.logfields import as_dict
from pillctl.schedule import compile_file
from pillctl.schedule.compiler import compile_to_bytes
from pillctl.schedule.hashing import with_hash
from pillctl.schedule.parse import parse_schedule
from pillctl.schedule.source import read_document
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
    env: dict[str, str] | None = None,
) -> Iterator[SimProcess]:
    """A sim board with the source firmware and `schedule` (compiled bytes) on its flash,
    its clock paused at `time_iso` (None: the sim's default, unknown and running)."""
    install_source(workdir / "fs", schedule=schedule)
    clock = ("--time", time_iso, "--speed", "0") if time_iso else ()
    with SimProcess(workdir, *clock, *args, env=env) as board:
        yield board


def compiled(name_or_path: str | Path, start: date = START) -> bytes:
    """A schedule (a name in schedules/ or a TOML path) compiled as of `start`."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCHEDULES / f"{name_or_path}.toml"
    return compile_file(path, start=start)


def compiled_unchecked(path: Path, start: date = START) -> bytes:
    """A schedule compiled without the host's safety checks, as a file made by hand or by
    another tool reaches a device: for what the device enforces on its own."""
    schedule, findings = parse_schedule(read_document(path).data, path.stem)
    assert schedule is not None, findings
    return compile_to_bytes(schedule, start)


def bone_health_with_override(
    iu: int, by: str = "Dr. Ada Lovelace", why: str = "deficiency", rule: str = "D3-UL"
) -> bytes:
    """bone-health as a device file with `iu` IU of D3 per dose (and as its daily cap)
    under an override of `rule` that `by` signed: past the host's checks, as a clinician's
    upload or a file written by hand reaches the device."""
    obj = json.loads(compiled("bone-health"))
    obj["comp"][0]["per"] = iu
    obj["caps"]["vitd"] = iu
    obj["ovr"] = [{"rule": rule, "by": by, "why": why}]
    return with_hash(obj)


def next_event(port, kind: str) -> dict:
    """The payload of the next `kind` event read from an open serial port; other lines go
    by (the boot record's event the board holds for its first client may come first)."""
    while True:
        line = port.readline().decode(errors="replace")
        assert line, f"no {kind} event within the port's timeout"
        try:
            frame = protocol.decode(line.strip())
        except protocol.FrameError:
            continue
        if frame is not None and frame[1] == "evt" and frame[2].get("kind") == kind:
            return frame[2]


def servo_moves(board, since: int) -> list[str]:
    """The servos that left the released state (one entry per actuation) since `since`."""
    return board.control.servo_moves(since)


# Generous bounds for a busy machine: each wait ends at the board's own signal, not here.
SIGNAL_TIMEOUT_S = 30


def wait_hello(device: Device, timeout: float = SIGNAL_TIMEOUT_S) -> dict:
    """hello, retried until the (re)booting board answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return device.request("hello", timeout=1)
        except PillctlError:
            if time.monotonic() > deadline:
                raise


def fence(board) -> None:
    """Return once the board has handled everything it did before this call: a clock step
    to the (paused) current time is answered on the same pipe as the trace, after it."""
    board.control.step_to(board.control.state()["clock"]["wall"], timeout=SIGNAL_TIMEOUT_S)


def press_and_settle(board, hoppers: list[int]) -> int:
    """Press the button and wait until the board has handled the press: its `press` event
    on the serial line, then a fence (the press is handled in the same turn of the board's
    event loop unless a servo starts), then each of `hoppers` moved and released in turn.
    Returns the trace position before the press; the caller checks the moves."""
    with Device(board.port) as device:
        since = board.control.press()
        deadline = time.monotonic() + SIGNAL_TIMEOUT_S
        while (event := device.read_event(1)) is None or event.get("kind") != "press":
            assert time.monotonic() < deadline, "the board never announced the press"
    fence(board)
    for hopper in hoppers:
        name = f"servo.{hopper}"
        moved = board.control.wait_for(name, since, timeout=SIGNAL_TIMEOUT_S)
        assert moved is not None, f"{name} did not move"
        released = board.control.wait_for(name, moved["seq"], value=0, timeout=SIGNAL_TIMEOUT_S)
        assert released is not None, f"{name} was not released"
    fence(board)
    return since


def log_records(board) -> list[dict]:
    return [as_dict(r) for r in LogStore(str(board.fs / "log")).records()]


def kinds(records: list[dict]) -> list[str]:
    return [r["kind"] for r in records]


HOLD_MS = 2500  # longer than the 2 s the maintenance REPL and overrides ask for


def run_pillctl_with_hold(board, *args: str, hold_ms: int = HOLD_MS, timeout: float = 120):
    """Run `pillctl ARGS` as a user would and, once it says to hold the button, hold the
    board's button through the sim's control channel (the person at the device). Returns
    (exit code, stdout, stderr)."""
    # Counted before the command starts: the board may log its request before a count
    # taken after it started, and then the hold would wait for a record that never comes.
    asked = _maintenance_asked(board)

    def hold_when_asked(line: str, _stdin) -> None:
        if "hold the dispenser's button" in line:
            hold_once_asked(board, asked, hold_ms)

    return run_pillctl_acting(*args, act=hold_when_asked, timeout=timeout)


def _maintenance_asked(board) -> int:
    return sum(
        1
        for r in log_records(board)
        if r["kind"] == "maintenance" and r["step"] == logrec.MAINT_ASKED
    )


def hold_once_asked(board, asked: int, hold_ms: int = HOLD_MS, timeout: float = 30) -> None:
    """Hold the button once the board logged a maintenance request beyond the `asked`
    it had: only a press that begins after the request opened its wait confirms it."""
    deadline = time.monotonic() + timeout
    while _maintenance_asked(board) <= asked:
        if time.monotonic() > deadline:
            raise AssertionError("the board logged no maintenance request")
        time.sleep(0.05)  # polls the board's flash for its own record
    board.control.press(hold_ms)


def unlock(board) -> None:
    """Open the maintenance REPL as a person does: `pillctl maintenance` and a hold."""
    code, _, err = run_pillctl_with_hold(board, "maintenance", "--port", board.port)
    assert code == 0, err
