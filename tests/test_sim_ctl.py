"""`pillctl sim press|time|power|wifi`: a person drives a headless simulated board from the
shell, and the board (real MicroPython behind its pty) does what a press, a clock move and a
power cut do to it."""

from __future__ import annotations

from conftest import run_pillctl
from simhelpers import board_with, compiled, log_records, utc


def sim(board, *args: str):
    result = run_pillctl("sim", *args, "--control", str(board.control_path))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_press_time_and_power_from_the_shell(tmp_path):
    with board_with(tmp_path, compiled("bone-health")) as board:  # 05:00 UTC, paused
        assert sim(board, "time") == "sim clock: 2026-11-30T05:00:00Z UTC, paused"
        assert run_pillctl("refill", "ca", "30", "--port", board.port).returncode == 0
        # breakfast (07:30 Berlin, 06:30 UTC) opens at 06:00 UTC
        assert sim(board, "time", "2026-11-30T06:35:00Z", "--step") == (
            "sim clock: 2026-11-30T06:35:00Z UTC, paused"
        )
        since = board.control.state()["trace_next"]
        assert sim(board, "press") == "pressed the button for 150 ms"
        assert board.control.wait_for("servo.2", since, timeout=10) is not None  # calcium
        assert sim(board, "time", "+2h", "--speed", "1").startswith("sim clock: 2026-11-30T08:35:0")
        assert sim(board, "power", "cycle") == "power on (boots: 2)"
        # the app answers again: it booted (and logged it) first
        assert run_pillctl("status", "--port", board.port).returncode == 0
        assert board.control.state()["clock"]["wall"] >= utc(8, 35)
    assert [r["kind"] for r in log_records(board)].count("boot") == 2
    dispensed = [r for r in log_records(board) if r["kind"] == "dispense"]
    assert [r["t"] for r in dispensed] == [int(utc(6, 35))]


def test_a_sim_that_is_not_running_and_a_time_that_is_no_time_are_one_line(tmp_path):
    result = run_pillctl("sim", "press", "--fs", str(tmp_path / "none"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"pillctl: no simulated board at {tmp_path / 'none.control'}: start one with "
        f"`pillctl sim --fs {tmp_path / 'none'}` (or give its --control socket)"
    )
    with board_with(tmp_path / "b", None) as board:
        result = run_pillctl("sim", "time", "tea-time", "--control", str(board.control_path))
    assert result.returncode == 1
    assert result.stderr.startswith("pillctl: 'tea-time' is no time: give an ISO time")
