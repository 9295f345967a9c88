"""Reminders on the sim board: LEDs at meal time, escalation to sound, snooze, and the
"nothing due" answer to a press outside any window. bone-health, Berlin (UTC+1): lunch
12:30 local = 11:30 UTC, D3 and K2 on hoppers 0 and 1, steps 0/10/20 min, snooze 10 min."""

from __future__ import annotations

import time

import pytest
from simhelpers import board_with, compiled, log_records, servo_moves, utc

from pillctl.device import open_device


@pytest.fixture
def board(tmp_path):
    with board_with(tmp_path / "board", compiled("bone-health")) as b:
        yield b


def beeps(board, since: int) -> list[str]:
    return [e["value"] for e in board.control.trace(since) if e["name"] == "buzzer"]


def state(board) -> dict:
    with open_device(board.port) as device:
        return device.request("status")


def test_reminder_lights_the_due_compartments_then_escalates_to_sound(board):
    control = board.control
    control.step_to(utc(11, 0))  # past breakfast (its reminder beeped, unanswered)
    time.sleep(1)
    since = control.state()["trace_next"]
    control.step_to(utc(11, 31))  # a minute into lunch: light only
    time.sleep(1)
    outputs = control.state()["outputs"]
    assert outputs.get("led.0") == "1" and outputs.get("led.1") == "1"
    assert outputs.get("led.2", "0") == "0"  # calcium is not due at lunch
    assert state(board)["state"] == "due" and state(board)["level"] == 1
    assert not [v for v in beeps(board, since) if not v.startswith("0:")]

    since = control.state()["trace_next"]
    control.step_to(utc(11, 41))  # ten minutes on: level 2, a beep
    time.sleep(1)
    assert [v for v in beeps(board, since) if not v.startswith("0:")]
    control.step_to(utc(11, 51))  # twenty minutes on: the loudest step
    assert state(board)["level"] == 3
    lunch = [r for r in log_records(board) if r["kind"] == "remind" and r["t"] >= utc(11, 0)]
    assert [r["level"] for r in lunch] == [1, 3]


def test_long_press_snoozes_the_reminder_then_it_comes_back(board):
    control = board.control
    control.step_to(utc(11, 45))  # level 2: beeping
    control.long_press()
    time.sleep(0.5)
    assert state(board)["level"] == 0  # snoozed: silent
    since = control.state()["trace_next"]
    time.sleep(6)  # longer than the beep repeat: still silent
    assert not [v for v in beeps(board, since) if not v.startswith("0:")]
    assert servo_moves(board, since) == []  # a long press never dispenses
    control.step_to(utc(11, 56))  # the 10-minute snooze is over: reminding starts again
    assert state(board)["level"] == 1
    assert control.state()["outputs"].get("led.0") == "1"
    assert [r for r in log_records(board) if r["kind"] == "snooze"]


def test_press_outside_any_window_dispenses_nothing_and_says_so(board):
    control = board.control
    control.step_to(utc(9, 0))  # 10:00 local: between breakfast and lunch
    since = control.press()
    time.sleep(1)
    assert servo_moves(board, since) == []
    assert state(board)["state"] == "nothing_due"
    assert not [r for r in log_records(board) if r["kind"] == "dispense"]
