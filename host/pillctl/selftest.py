"""The guided self-test's steps (`pillctl selftest`): what each asks of the person, which
device request runs it, and how its reply is judged.

The step order is also the bit order of the SELFTEST log record's passed and failed masks
(docs/log-format.md), so `selftest_text` can name them from a record alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dispenser.core.protocol import SELFTEST_HOLD_MS
from pillctl.clocksync import format_epoch

HOLD_S = -(-SELFTEST_HOLD_MS // 1000)  # rounded up: never ask for less than the device wants
CLOCK_TOLERANCE_S = 2  # a DS3231 this close to the host's time passes
MIN_FREE_BYTES = 16 * 1024  # room for a schedule upload's temporary file and more

PASS, FAIL, SKIP = "pass", "FAIL", "skipped"


@dataclass(frozen=True)
class Step:
    name: str
    instruction: str
    args: dict[str, Any]
    person: bool = True  # waits for the person at the device


def _servo_instruction(hopper: int) -> str:
    return (
        f"Servo {hopper}: with a drop sensor fitted, put one test pill in hopper {hopper}. "
        f"Press the button to sweep the servo to its drop position and back."
    )


STEPS: tuple[Step, ...] = (
    Step("button.press", "Button: press it once.", {"step": "press"}),
    Step("button.hold", f"Button: hold it down for {HOLD_S} s.", {"step": "hold"}),
    Step("led.status", "Status LED: is it lit? Press the button if it is.",
         {"step": "led", "led": 0}),
    *(
        Step(f"led.{i}", f"Compartment {i}'s LED: is it lit? Press the button if it is.",
             {"step": "led", "led": i + 1})
        for i in range(3)
    ),
    Step("buzzer.2", "Buzzer, reminder level 2: single beeps? Press the button if you hear them.",
         {"step": "buzzer", "level": 2}),
    Step("buzzer.3", "Buzzer, reminder level 3: loud triple beeps? Press the button if you hear "
         "them.", {"step": "buzzer", "level": 3}),
    *(Step(f"servo.{h}", _servo_instruction(h), {"step": "servo", "hopper": h}) for h in range(3)),
    Step("clock", "Clock: the DS3231 (if fitted) against this computer's time.", {"step": "clock"},
         person=False),
    Step("flash", "Flash: free space and the log's health.", {"step": "flash"}, person=False),
)  # fmt: skip
STEP_NAMES = tuple(step.name for step in STEPS)


@dataclass(frozen=True)
class Result:
    step: str
    outcome: str  # PASS, FAIL or SKIP
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"step": self.step, "result": self.outcome.lower(), "detail": self.detail}


def judge(step: Step, reply: dict[str, Any], wait_s: int, host_now: float | None = None) -> Result:
    """The verdict on one step from the device's reply."""
    if step.name == "clock":
        return _judge_clock(reply, time.time() if host_now is None else host_now)
    if step.name == "flash":
        return _judge_flash(reply)
    if not reply.get("ok"):
        nothing = "; the servo did not move" if step.name.startswith("servo.") else ""
        return Result(step.name, FAIL, f"no press within {wait_s} s{nothing}")
    if step.name.startswith("servo."):
        return _judge_servo(step, reply)
    return Result(step.name, PASS, "confirmed at the device")


def _judge_servo(step: Step, reply: dict[str, Any]) -> Result:
    sweep = f"swept {reply['rest']} -> {reply['drop']} -> {reply['rest']} us"
    pill = reply.get("pill")
    if pill is None:
        return Result(step.name, PASS, sweep + " (no drop sensor fitted)")
    if pill:
        return Result(step.name, PASS, sweep + ", the drop sensor saw the pill")
    hopper = step.name.split(".")[1]
    return Result(
        step.name,
        FAIL,
        f"{sweep}, but the drop sensor saw no pill: a jam, an empty hopper, a misaligned "
        f"sensor, or a drop position short of the opening (`pillctl calibrate {hopper}`)",
    )


def _judge_clock(reply: dict[str, Any], host_now: float) -> Result:
    board = reply.get("t")
    board_text = (
        "board clock unknown: run `pillctl time sync`"
        if board is None
        else f"board clock {round(board - host_now):+d} s"
    )
    ds3231 = reply.get("ds3231")
    if ds3231 is None:
        return Result(
            "clock", SKIP, f"no DS3231 answers on I2C (fine if none is fitted); {board_text}"
        )
    if ds3231.get("lost") or ds3231.get("t") is None:
        return Result(
            "clock", FAIL,
            "the DS3231 lost its time (coin cell flat or missing?): fit a CR2032, then "
            "`pillctl time sync`",
        )  # fmt: skip
    off = ds3231["t"] - host_now
    if abs(off) > CLOCK_TOLERANCE_S:
        return Result(
            "clock", FAIL,
            f"the DS3231 is {round(off):+d} s off this computer ({format_epoch(ds3231['t'])}): "
            "`pillctl time sync`",
        )  # fmt: skip
    return Result("clock", PASS, f"DS3231 {round(off):+d} s from this computer; {board_text}")


def _judge_flash(reply: dict[str, Any]) -> Result:
    log = reply.get("log") or {}
    free = int(reply.get("free", 0))
    room = f"{free / 1024:.0f} KB" if free < 10 << 20 else f"{free >> 20} MB"
    text = f"{room} free; log {log.get('bytes')} of {log.get('budget')} bytes"
    problems = []
    if reply.get("skipped"):
        problems.append(f"{reply['skipped']} corrupt log bytes skipped at boot")
    if log.get("bytes", 0) > log.get("budget", 0):
        problems.append("the log is over its budget")
    if free < MIN_FREE_BYTES:
        problems.append(f"less than {MIN_FREE_BYTES // 1024} KB free")
    if problems:
        return Result("flash", FAIL, f"{text}: {', '.join(problems)}")
    return Result("flash", PASS, text)


def masks(results: list[Result]) -> tuple[int, int]:
    """The SELFTEST record's (passed, failed) bit masks, bit i for STEPS[i]."""
    passed = failed = 0
    for result in results:
        bit = 1 << STEP_NAMES.index(result.step)
        if result.outcome == PASS:
            passed |= bit
        elif result.outcome == FAIL:
            failed |= bit
    return passed, failed


def step_names(mask: int) -> list[str]:
    return [name for i, name in enumerate(STEP_NAMES) if mask >> i & 1]


def selftest_text(t: int, passed: int, failed: int) -> str:
    """`2026-12-06 22:00:00 UTC: 12 passed, 1 failed (servo.2)` for status and report."""
    text = f"{format_epoch(t) if t else 'time unknown'}: {bin(passed).count('1')} passed"
    failures = step_names(failed)
    if failures:
        return text + f", {len(failures)} failed ({', '.join(failures)})"
    return text + ", none failed"
