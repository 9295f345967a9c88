"""USB alone never reaches the REPL while the app runs (issue 17, item 1), on the simulated
board with the real firmware, pty, pyserial and mpremote: a 0x03 or a raw-REPL request is
ignored and dispensing goes on; `pillctl maintenance` opens the REPL only after a hold of
the button, and logs who asked; the button held at power-on starts safe mode."""

from __future__ import annotations

import json
import subprocess

import serial
from conftest import run_pillctl
from simhelpers import board_with, compiled, log_records, run_pillctl_with_hold, utc

from dispenser.core import logrec
from pillctl.device import probe_hello
from pillctl.executables import require_tool

MAINTENANCE = {"PILLCTL_SIM_MAINTENANCE_S": "3"}


def _mpremote_ls(port: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [require_tool("mpremote"), "connect", port, "resume", "fs", "ls"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_ctrl_c_and_the_raw_repl_are_ignored_and_the_due_dose_still_dispenses(tmp_path):
    with board_with(tmp_path, compiled("bone-health")) as board:
        board.control.step_to(utc(11, 35))  # lunch is due
        with serial.Serial(board.port, timeout=1) as line:
            line.write(b"\r\x03\x03\x01")  # what mpremote sends to reach the raw REPL
            seen = line.read(200)
        assert b"raw REPL" not in seen and b">>>" not in seen
        assert probe_hello(board.port, 3.0) is not None  # the app answers on
        listing = _mpremote_ls(board.port)
        assert listing.returncode != 0  # mpremote finds no REPL
        since = board.control.press()
        assert board.control.wait_for("servo.0", since, timeout=10) is not None
        assert not [e for e in board.control.trace(0) if e["name"] == "watchdog"]


def test_maintenance_opens_the_repl_only_after_a_hold_and_logs_who_asked(tmp_path):
    with board_with(tmp_path, compiled("bone-health"), env=MAINTENANCE) as b:
        code, out, err = run_pillctl_with_hold(b, "maintenance", "--port", b.port)
        assert code == 0, err
        assert "hold the dispenser's button for 2 s" in err
        assert "maintenance REPL open" in out
        with serial.Serial(b.port, timeout=2) as line:
            line.write(b"\r\n")
            assert b">>> " in line.read_until(b">>> ")
        steps = [r["step"] for r in log_records(b) if r["kind"] == "maintenance"]
        assert steps == [logrec.MAINT_ASKED, logrec.MAINT_OPENED]
        who = {r["who"] for r in log_records(b) if r["kind"] == "maintenance"}
        assert len(who) == 1 and "@" in who.pop()
        # The window ends in a watchdog reset, back into dispensing (waited for on the
        # board's own trace: `pillctl status` would restart a board it finds in the REPL).
        assert b.control.wait_for("watchdog", 0, timeout=30) is not None
        result = run_pillctl("status", "--port", b.port, "--json", timeout=90)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["hello"]["reset"] == "wdt"


def test_the_button_held_at_power_on_starts_safe_mode_and_only_then(tmp_path):
    with board_with(tmp_path, compiled("bone-health")) as board:
        board.control.power(False)
        board.control.power(True, held=True)
        with serial.Serial(board.port, timeout=2) as line:
            line.write(b"\r\n")
            seen = line.read_until(b">>> ")
        assert b"safe mode" in seen or b">>> " in seen
        assert probe_hello(board.port, 2.0) is None  # no app
        listing = _mpremote_ls(board.port)
        assert listing.returncode == 0 and "main.py" in listing.stdout, listing.stderr
        steps = [r["step"] for r in log_records(board) if r["kind"] == "maintenance"]
        assert steps == [logrec.MAINT_SAFE_MODE]  # why nothing was dispensed meanwhile
        board.control.power(False)
        board.control.power(True)
        assert probe_hello(board.port, 20.0) is not None
