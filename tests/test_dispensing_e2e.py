"""Dispensing end to end on the sim board: real MicroPython, real pty, a real kill -9.

The dose logic (double presses, missed doses, jams, stock, reminders, the unknown clock) is
proven in-process (tests/test_controller_inprocess.py); this proves it on the real runtime,
where a power cut is a killed process and the log is real files.

The board runs bone-health (Europe/Berlin, UTC+1 in winter): calcium (hopper 2) at
breakfast 07:30, D3 + K2 (hoppers 0, 1) at lunch 12:30, calcium at dinner 18:30.
"""

from __future__ import annotations

import pytest
from simhelpers import (
    SIGNAL_TIMEOUT_S,
    board_with,
    compiled,
    kinds,
    log_records,
    press_and_settle,
    servo_moves,
    utc,
    wait_hello,
)

from pillctl.device import Device


@pytest.fixture
def board(tmp_path):
    with board_with(tmp_path / "board", compiled("bone-health")) as b:
        yield b


def test_a_power_cut_mid_move_never_repeats_the_dose_and_the_day_goes_on(board):
    board.control.step_to(utc(6, 35))  # 07:35 Berlin: breakfast
    since = board.control.press()
    assert board.control.wait_for("servo.2", since, timeout=SIGNAL_TIMEOUT_S) is not None
    board.control.power(False)  # mid-move: the dispense record is already on flash
    board.control.power(True)
    with Device(board.port) as device:
        assert wait_hello(device)["reset"] == "power"
    since = press_and_settle(board, [])
    assert servo_moves(board, since) == []  # the press was handled: nothing moved

    board.control.step_to(utc(11, 35))  # lunch: both hoppers, each released after its move
    since = press_and_settle(board, [0, 1])
    assert servo_moves(board, since) == ["servo.0", "servo.1"]
    assert board.control.servos_released()

    records = kinds(log_records(board))
    assert records.count("boot") == 2
    assert records.count("dispense") == 3
