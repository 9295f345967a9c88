"""One meal lived in real time: a board left running at wall speed, its clock never stepped,
through a reminder, its escalation and the window's cut-off (DESIGN.md invariant 13).

Shared by tests/test_realtime_e2e.py, the real-time phase of `make soak` and the bench's
`missed_alert_latency_s`. The schedule (tests/data/realtime-meal.toml) reminds at 10:00 UTC,
turns loud at 10:01 and closes the window at 10:02; the board starts LEAD_S before the
reminder, so one meal takes about two and a half minutes of wall time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from dispenser.logstore import LogStore
from pillctl.device import Device
from pillctl.logfields import as_dict
from pillctl.schedule import compile_file
from pillctl.sim.firmware_image import install_source
from pillctl.sim.process import SimProcess

SCHEDULE = Path(__file__).resolve().parent / "data" / "realtime-meal.toml"
MEAL = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
MEAL_S = int(MEAL.timestamp())
CUT_OFF_S = MEAL_S + 120  # late_minutes after the meal: the window is closed from here
# (kind, level, the second the record belongs to)
EXPECTED = (
    ("remind", 1, MEAL_S),
    ("remind", 3, MEAL_S + 60),
    ("missed", None, CUT_OFF_S),
)
TOLERANCE_S = 2
LEAD_S = 15  # time to boot and load the schedule before the reminder
# How long past the cut-off to wait for the missed event before giving up: a stalled
# schedule task is reset by the watchdog after 75 s, and logs the miss only then.
PATIENCE_S = 120
_TIMED = ("remind", "missed")


@contextmanager
def meal_board(workdir: Path, *args: str, board: str = "sim") -> Iterator[SimProcess]:
    """A sim board (`board`: sim or sim_w) with the real-time meal installed, its clock
    running at wall speed from LEAD_S before the reminder."""
    install_source(workdir / "fs", board=board, schedule=compile_file(SCHEDULE, start=MEAL.date()))
    start = datetime.fromtimestamp(MEAL_S - LEAD_S, UTC).isoformat()
    extra = ("--board", "pico_w") if board == "sim_w" else ()
    with SimProcess(workdir, "--time", start, "--speed", "1", *extra, *args) as sim:
        yield sim


def wait_for_the_miss(sim: SimProcess) -> None:
    """Return when the board announces the missed dose on its serial line."""
    with Device(sim.port) as device:
        deadline = time.monotonic() + LEAD_S + (CUT_OFF_S - MEAL_S) + PATIENCE_S
        while (event := device.read_event(5)) is None or event.get("kind") != "missed":
            if time.monotonic() > deadline:
                raise AssertionError("the board never logged the missed dose")


def records(sim: SimProcess) -> list[dict]:
    return [as_dict(r) for r in LogStore(str(sim.fs / "log")).records()]


def timeline_problems(logged: list[dict]) -> list[str]:
    """What is wrong with a meal's log: an ERROR record, a reset, a record missing or more
    than TOLERANCE_S from its second. Empty when the board kept time."""
    problems = [f"error record {r}" for r in logged if r["kind"] == "error"]
    boots = [r for r in logged if r["kind"] == "boot"]
    if len(boots) != 1:
        problems.append(f"{len(boots)} boots: the board was reset")
    timed = [(r["kind"], r.get("level"), r["t"]) for r in logged if r["kind"] in _TIMED]
    if [t[:2] for t in timed] != [e[:2] for e in EXPECTED]:
        problems.append(f"records {timed}, expected {list(EXPECTED)}")
        return problems
    for (kind, level, t), (_, _, second) in zip(timed, EXPECTED, strict=True):
        if not 0 <= t - second <= TOLERANCE_S:
            problems.append(f"{kind} {level or ''} logged {t - second:+d} s from its second")
    return problems
