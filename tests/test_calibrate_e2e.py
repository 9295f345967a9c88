"""`pillctl calibrate` on the simulated board: keys from a stream move the servo (checked
in the traced pulse widths), the widths are kept on the device's flash and used from the
next movement on, across reboots; bounds hold on both sides; a damaged file is logged and
not used."""

from __future__ import annotations

import json

import pytest
from benchdrive import PRESS, drive
from conftest import run_pillctl
from simhelpers import SIGNAL_TIMEOUT_S, board_with, log_records

from dispenser import setupfiles
from dispenser.core import logrec
from pillctl.device import Device, DeviceError

DEFAULTS = [[600, 2400]] * 3


def _servos(board) -> list[list[int]]:
    result = run_pillctl("status", "--port", board.port, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["status"]["servos"]


def _pulses(board, name: str, since: int) -> list[int]:
    return [int(e["value"]) for e in board.control.trace(since) if e["name"] == name]


def _power_cycle(board) -> None:
    board.control.power(False)
    board.control.power(True)
    assert board.control.wait_for("led.status", board.control.state()["trace_next"] - 1,
                                  timeout=SIGNAL_TIMEOUT_S)  # fmt: skip


def test_keys_move_the_servo_and_the_widths_are_kept_on_the_device(tmp_path):
    with board_with(tmp_path, None, time_iso=None) as board:
        since = board.control.state()["trace_next"]
        # rest: up, +, + (630); drop: left, - (2340); arrows are ESC [ A..D.
        code, out, err = drive(board, ["calibrate", "1"], stdin="\x1b[A++\n\x1b[D-\n")
        assert code == 0, out + err
        assert "hopper 1: rest 630 us, drop 2340 us, saved (the drop sensor saw a pill)" in out
        pulses = _pulses(board, "servo.1", since)
        # Driven at rest, then one step per key, each held where the key left it.
        assert pulses[:4] == [600, 610, 620, 630]
        to_drop = pulses[pulses.index(630) :]
        assert to_drop[to_drop.index(2400) + 1 : to_drop.index(2400) + 3] == [2350, 2340]
        # The sweep with the new widths, then released at the end.
        assert max(pulses[pulses.index(2340) :]) == 2340
        assert pulses[-1] == 0
        assert min(p for p in pulses if p) == 600
        assert _servos(board) == [[600, 2400], [630, 2340], [600, 2400]]
        assert setupfiles.load(str(board.fs / "servo.cal")) == [
            (600, 2400),
            (630, 2340),
            (600, 2400),
        ]
        _power_cycle(board)
        assert _servos(board)[1] == [630, 2340]


def test_stopping_before_enter_saves_nothing_and_releases_the_servo(tmp_path):
    with board_with(tmp_path, None, time_iso=None) as board:
        code, out, err = drive(board, ["calibrate", "0"], stdin="+++")  # no Enter: EOF
        assert code == 1
        assert (
            err == "pillctl: calibrate: stopped before the rest position was kept: nothing saved\n"
        )
        assert board.control.state()["outputs"]["servo.0"] == "0"
        assert _servos(board) == DEFAULTS
        assert not (board.fs / "servo.cal").exists()


def test_set_widths_without_the_keyboard_are_used_by_the_next_movement(tmp_path):
    with board_with(tmp_path, None, time_iso=None) as board:
        result = run_pillctl(
            "calibrate", "2", "--rest", "700", "--drop", "2200", "--port", board.port
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "hopper 2: rest 700 us, drop 2200 us, saved\n"
        since = board.control.state()["trace_next"]
        with Device(board.port) as device:
            reply = device.request(
                "selftest", {"step": "servo", "hopper": 2, "wait_ms": 20000}, timeout=40,
                on_event=lambda _event: board.control.button(PRESS),
            )  # fmt: skip
        assert reply == {"ok": True, "rest": 700, "drop": 2200, "pill": True}
        pulses = [p for p in _pulses(board, "servo.2", since) if p]
        assert (max(pulses), pulses[-1]) == (2200, 700)  # to the new drop, back to the new rest


@pytest.mark.parametrize("rest,drop", [(499, 2000), (600, 2501), (800, 800), (600, "2400")])
def test_widths_out_of_bounds_are_refused_by_the_device(tmp_path, rest, drop):
    with board_with(tmp_path, None, time_iso=None) as board, Device(board.port) as device:
        with pytest.raises(DeviceError) as refused:
            device.request("calibrate", {"op": "save", "hopper": 0, "rest": rest, "drop": drop})
        assert refused.value.code == "bad_args"
        assert device.request("status")["servos"] == DEFAULTS
        # Nor can a move go outside, nor anything move without a press first.
        with pytest.raises(DeviceError, match="begin first"):
            device.request("calibrate", {"op": "move", "hopper": 0, "us": 1000})


def test_the_cli_refuses_widths_out_of_bounds_in_one_line(tmp_path):
    result = run_pillctl(
        "calibrate", "0", "--rest", "400", "--drop", "2000", "--port", "/nonexistent"
    )
    assert result.returncode == 2
    assert (
        result.stderr.count("\n") == 1 and "400 is not in the range 500<=x<=2500" in result.stderr
    )


def test_a_damaged_calibration_file_is_logged_and_not_used(tmp_path):
    with board_with(tmp_path, None, time_iso=None) as board:
        run_pillctl("calibrate", "0", "--rest", "700", "--drop", "2200", "--port", board.port)
        cal = board.fs / "servo.cal"
        data = bytearray(cal.read_bytes())
        data[5] ^= 0xFF  # hopper 0's rest, behind its CRC's back
        cal.write_bytes(bytes(data))
        _power_cycle(board)
        assert _servos(board) == DEFAULTS
        errors = [r for r in log_records(board) if r["kind"] == "error"]
        assert (errors[-1]["code"], errors[-1]["detail"]) == (
            logrec.ERR_CALIBRATION_REJECTED, setupfiles.DAMAGED,
        )  # fmt: skip
