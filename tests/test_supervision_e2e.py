"""Never dead, never silent, on the simulated board: Ctrl-C anywhere in boot, the time
across a hard reset without a DS3231, a half request line, failing tasks and the halted
state, and a chattering button."""

from __future__ import annotations

import json
import os
import pty
import time
import tty

import pytest
import serial
from conftest import run_pillctl
from simhelpers import board_with, compiled, kinds, log_records, servo_moves, unlock, utc

from dispenser import rescue
from dispenser.core import logrec, protocol
from pillctl.device import Device, open_device, probe_hello
from pillctl.errors import PillctlError
from pillctl.sim.process import SimProcess

MAINTENANCE = {"PILLCTL_SIM_MAINTENANCE_S": "1"}
BACK_TIMEOUT_S = 60  # maintenance window + the 8 s watchdog + a boot, on a loaded machine


def _hello_within(port: str, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hello = probe_hello(port, 1.0)
        if hello is not None:
            return hello
    return None


def _boots_since(board: SimProcess, since: int) -> list[dict]:
    return [e for e in board.control.trace(since) if e["kind"] == "sim" and e["name"] == "boot"]


# --- item 2: Ctrl-C at any moment of boot -------------------------------------------------
# Under load a Ctrl-C ~50 ms after power-on used to leave the sim board silent: the unix
# port raised KeyboardInterrupt from inside its signal handler, in the middle of an import,
# and main.py's `except` clause deadlocked on the qstr mutex it left locked. The sim now
# schedules it as a Pico does (host/pillctl/sim/board_process.py, docs/sim.md). Since issue
# 17, main.py turns the keyboard interrupt off first of all: a Ctrl-C after that is dropped
# and the app just answers; one in the microseconds before still ends in maintenance and
# then back in dispensing. Either way the board is never left dead, and never in the REPL.
def test_ctrl_c_at_any_moment_of_boot_never_leaves_the_board_dead_or_in_the_repl(tmp_path):
    with SimProcess(tmp_path / "b", env=MAINTENANCE) as board:
        control = board.control
        # How long this machine takes from power-on to the app's hello, right now.
        control.power(False)
        started = time.monotonic()
        control.power(True)
        assert _hello_within(board.port, BACK_TIMEOUT_S) is not None
        boot_s = time.monotonic() - started
        # From the very start of the process to past the app's first hello: the imports,
        # board.build(), App() with its log scan, the controller's boot and the tasks.
        steps = 10
        for i in range(steps + 1):
            delay = boot_s * 1.2 * i / steps
            control.power(False)
            control.power(True)
            since = control.state()["trace_next"]
            # Opened only to write: a client that holds the port without reading would, like
            # a full USB buffer, block the board's output.
            with serial.Serial(board.port) as line:
                time.sleep(delay)  # the swept variable, not a wait for something
                line.write(b"\x03")
            # A Ctrl-C before MicroPython runs main.py is not seen at all, as on a Pico, whose
            # USB is not up yet (the sim ignores it); one after main.py's kbd_intr(-1) is
            # dropped: the app just answers. One in between ends in a reset after the
            # maintenance window, then the app answers again.
            deadline = time.monotonic() + BACK_TIMEOUT_S
            while not _boots_since(board, since) and time.monotonic() < deadline:
                if probe_hello(board.port, 1.0) is not None:
                    break  # the app answers: not in the REPL
            hello = _hello_within(board.port, BACK_TIMEOUT_S)
            assert hello is not None, (
                f"dead after a Ctrl-C {delay:.3f} s into boot; the board says: {_screen(board)!r}"
            )
        # With the app up, a Ctrl-C stops nothing: no reset follows and the app answers.
        since = control.state()["trace_next"]
        with serial.Serial(board.port) as line:
            line.write(b"\x03")
        assert probe_hello(board.port, 5.0) is not None
        assert not _boots_since(board, since)


def _screen(board: SimProcess) -> bytes:
    """What a dead board shows on its serial line, for the failure message."""
    with serial.Serial(board.port, timeout=2) as line:
        line.write(b"\r\n")
        return line.read(2000)


# --- item 3: the time across a hard reset without a DS3231 -------------------------------
def test_without_a_ds3231_the_time_survives_a_hard_reset_but_not_a_power_cut(tmp_path):
    with SimProcess(tmp_path / "b", "--no-rtc", env=MAINTENANCE) as board:
        synced = run_pillctl("time", "sync", "--port", board.port)
        assert synced.returncode == 0, synced.stderr
        since = board.control.state()["trace_next"]
        unlock(board)  # maintenance, which ends in a watchdog reset
        assert board.control.wait_for("watchdog", since, timeout=BACK_TIMEOUT_S) is not None
        hello = _hello_within(board.port, BACK_TIMEOUT_S)
        assert hello is not None and hello["reset"] == "wdt"
        # The RTC restarted at 2021; the time came back from the scratch words, behind by at
        # most the time since the last save (the sim's starved watchdog: 8 s) and a second.
        assert hello["clock"] == "set"
        print(f"restored clock behind the host by {time.time() - hello['t']:.1f} s")
        assert time.time() - 12 <= hello["t"] <= time.time() + 1

        board.control.power(False)  # a power cut clears the scratch words
        board.control.power(True)
        hello = _hello_within(board.port, BACK_TIMEOUT_S)
        assert hello is not None and hello["clock"] == "unknown"


# --- item 10: a half request line never poisons the next request --------------------------
def test_a_partial_line_is_dropped_after_a_pause(sim_board):
    with serial.Serial(sim_board.port, timeout=10) as line:
        line.reset_input_buffer()
        line.write(b"P1 7 sta")  # a cable pulled in the middle of a request
        dropped = protocol.decode(line.readline().decode().strip())
        assert dropped[:2] == (0, "err") and dropped[2]["code"] == "bad_frame"
        assert "partial line" in dropped[2]["msg"]
        # A client that sends no leading newline is not poisoned either.
        line.write((protocol.encode(8, "hello", {}) + "\n").encode())
        hello = protocol.decode(line.readline().decode().strip())
    assert hello[:2] == (8, "ok") and hello[2]["board"] == "sim"


def test_pillctl_right_after_a_half_line_still_works(sim_board):
    with serial.Serial(sim_board.port) as line:
        line.write(b"P1 7 status {} 1a2")  # no pause: the host's leading newline ends it
    result = run_pillctl("status", "--port", sim_board.port, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hello"]["board"] == "sim"


def test_the_host_opens_every_request_with_a_newline():
    master, slave = pty.openpty()
    tty.setraw(master)
    try:
        with Device(os.ttyname(slave), timeout=0.2) as device, pytest.raises(PillctlError):
            device.request("hello")  # nobody answers: only the bytes sent matter here
        sent = os.read(master, 4096)
    finally:
        os.close(master)
        os.close(slave)
    assert sent.startswith(b"\nP1 ") and sent.endswith(b"\n") and sent.count(b"\n") == 2


# --- item 1: a failing task is logged, resets; crashes in a row halt the board ------------
def _sim_request(board: SimProcess, **request) -> None:
    """A control request the sim helper's branch adds (fault, button edges): the test
    skips on a sim without it."""
    try:
        board.control.request(**request)
    except PillctlError as exc:
        if "unknown control request" in str(exc):
            pytest.skip(f"needs the sim's {request['cmd']!r} control request")
        raise


def _crash_once(board: SimProcess, task: str) -> None:
    since = board.control.state()["trace_next"]
    _sim_request(board, cmd="fault", task=task)
    # Any line makes the serial loop go round and check in, where the fault strikes.
    with serial.Serial(board.port) as line:
        line.write(b"\n")
    deadline = time.monotonic() + BACK_TIMEOUT_S
    while not _boots_since(board, since) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _boots_since(board, since), "the failing task did not reset the board"
    assert _hello_within(board.port, BACK_TIMEOUT_S) is not None


def test_repeated_task_failures_are_logged_and_halt_the_board_safely(tmp_path):
    with board_with(tmp_path / "b", compiled("bone-health")) as board:
        for _ in range(3):
            _crash_once(board, "serial")
        failures = [r for r in log_records(board) if r["kind"] == "error"]
        failed = [r for r in failures if r["code"] == logrec.ERR_TASK_FAILED]
        assert len(failed) == 3
        assert {rescue.TASK_NAMES[r["detail"] >> 8] for r in failed} == {"serial"}
        assert {r["detail"] for r in failed} == {rescue.task_failure("serial", RuntimeError())}
        assert any(r["code"] == logrec.ERR_HALTED for r in failures)

        # Halted: status says so, the log can be read, nothing else is done, nothing moves.
        with open_device(board.port) as device:
            status = device.request("status")
            assert status["state"] == "halted" and status["crashes"] == 3
            assert device.request("log.read", {"since": 0})["last"] > 0
            with pytest.raises(PillctlError, match="halted"):
                device.request("refill", {"hopper": 0, "count": 10})
        since = board.control.press()  # returns once the press is over
        with open_device(board.port) as device:
            assert device.request("hello")["board"] == "sim"  # the board's acknowledgement
        assert servo_moves(board, since) == [] and board.control.servos_released()

        board.control.power(False)  # a power cycle clears the crash count
        board.control.power(True)
        with open_device(board.port) as device:
            assert device.request("status")["state"] != "halted"


# --- item 9: a chattering long press stays a long press -----------------------------------
def test_a_chattering_long_press_snoozes_and_dispenses_nothing(tmp_path):
    with board_with(tmp_path / "b", compiled("bone-health")) as board:
        board.control.step_to(utc(11, 35))  # lunch is due
        since = board.control.state()["trace_next"]
        # 2 s held, the contact opening for 3 ms every 100 ms, then released.
        edges: list[list[int]] = [[0, 20]]
        for _ in range(20):
            edges += [[1, 3], [0, 97]]
        edges.append([1, 200])
        _sim_request(board, cmd="button", edges=edges)
        deadline = time.monotonic() + 30
        while "snooze" not in kinds(log_records(board)) and time.monotonic() < deadline:
            time.sleep(0.1)
        records = log_records(board)
        assert "snooze" in kinds(records) and "dispense" not in kinds(records)
        assert servo_moves(board, since) == []
