"""`pillctl selftest` on the simulated board: every step with its instruction and verdict,
the SELFTEST record, status and report showing it, a jam, an unconfirmed LED, and a DS3231
that is wrong, absent or without its time. Presses during the self-test never dispense."""

from __future__ import annotations

import json
import re
import time

from benchdrive import HOLD, PRESS, drive
from conftest import run_pillctl
from simhelpers import board_with, compiled, kinds, log_records, utc

from pillctl.device import Device
from pillctl.selftest import STEP_NAMES, judge
from pillctl.selftest import STEPS as SELFTEST_STEPS

ALL = (1 << len(STEP_NAMES)) - 1
BIT = {name: 1 << i for i, name in enumerate(STEP_NAMES)}


def _act(board, skip=()):
    def act(step: str) -> None:
        if step in skip:
            return  # the person does not confirm: the step fails after its wait
        board.control.button(HOLD if step == "button.hold" else PRESS)

    return act


def _match_ds3231_to_host(board) -> None:
    """The simulated DS3231 set to this computer's time (the sim's clock is the test's)."""
    with Device(board.port) as device:
        t = device.request("selftest", {"step": "clock"})["ds3231"]["t"]
    board.control.ds3231(offset=round(time.time() - t))


def test_selftest_walks_every_step_records_it_and_never_dispenses(tmp_path):
    with board_with(tmp_path, compiled("bone-health")) as board:
        board.control.step_to(utc(6, 35))  # 07:35 Berlin: the breakfast dose is due
        board.control.set_speed(1)  # the clock runs, as the host's does
        _match_ds3231_to_host(board)
        since = board.control.state()["trace_next"]
        code, out, err = drive(board, ["selftest"], _act(board))
        assert code == 0, out + err
        for number, step in enumerate(SELFTEST_STEPS, 1):
            assert f"[{number}/13] {step.instruction}" in out
            assert f"      {step.name}: pass" in out
        assert "self-test passed (13 steps; 0 skipped)" in out
        # Each LED was lit alone, the buzzer played both levels, each servo swept once.
        trace = board.control.trace(since)
        lit = {e["name"] for e in trace if e["name"].startswith("led.") and e["value"] == "1"}
        assert lit == {"led.status", "led.0", "led.1", "led.2"}
        tones = {e["value"].split(":")[0] for e in trace if e["name"] == "buzzer"}
        assert {"2000", "2700"} <= tones
        assert board.control.servo_moves(since) == ["servo.0", "servo.1", "servo.2"]
        records = log_records(board)
        assert "dispense" not in kinds(records)  # eleven presses, no dose
        assert records[-1]["kind"] == "selftest"
        assert (records[-1]["passed"], records[-1]["failed"]) == (ALL, 0)
        status = run_pillctl("status", "--port", board.port, "--json")
        reply = json.loads(status.stdout)["status"]
        assert reply["selftest"] == [records[-1]["t"], ALL, 0]
        assert "ca-breakfast" in [p[0] for p in reply["pending"]]  # still due
        text = run_pillctl("status", "--port", board.port).stdout
        assert "13 passed, none failed" in text
        data = {"PILLCTL_DATA_DIR": str(tmp_path / "data")}
        assert run_pillctl("logs", "--port", board.port, env=data).returncode == 0
        listed = run_pillctl("logs", "--since", "0", "--port", board.port, env=data).stdout
        assert "selftest   passed=button.press,button.hold,led.status," in listed
        assert "failed=none" in listed
        report = run_pillctl("report", env=data)
        assert "Last self-test: " in report.stdout and "13 passed, none failed" in report.stdout


def test_a_jam_an_unconfirmed_led_and_a_wrong_ds3231_fail_their_steps(tmp_path):
    with board_with(tmp_path, None, time_iso="now") as board:
        board.control.set_speed(1)
        _match_ds3231_to_host(board)
        board.control.ds3231(offset=board.control.ds3231()["offset"] + 300)
        board.control.jam(1)
        code, out, err = drive(board, ["selftest", "--wait", "3"], _act(board, {"led.2"}))
        assert code == 1
        assert err == "pillctl: self-test: 3 of 13 steps failed (led.2, servo.1, clock)\n"
        assert "led.2: FAIL" in out and "no press within 3 s" in out
        assert "the drop sensor saw no pill" in out
        assert re.search(r"the DS3231 is \+(299|300|301) s off this computer", out)
        record = log_records(board)[-1]
        assert record["kind"] == "selftest"
        assert record["failed"] == BIT["led.2"] | BIT["servo.1"] | BIT["clock"]
        assert record["passed"] == ALL & ~record["failed"]


def _clock_verdict(board):
    with Device(board.port) as device:
        reply = device.request("selftest", {"step": "clock"})
    return judge(SELFTEST_STEPS[STEP_NAMES.index("clock")], reply, 1)


def test_the_clock_step_with_a_ds3231_absent_lost_or_right(tmp_path):
    with board_with(tmp_path, None, "--no-rtc", time_iso="now") as board:
        absent = _clock_verdict(board)
        assert absent.outcome == "skipped" and "no DS3231 answers" in absent.detail
        board.control.ds3231(present=True, lost=True)
        lost = _clock_verdict(board)
        assert lost.outcome == "FAIL" and "lost its time" in lost.detail
        board.control.ds3231(lost=False)
        assert _clock_verdict(board).outcome == "pass"
        board.control.ds3231(present=False)
        assert _clock_verdict(board).outcome == "skipped"


def test_a_step_without_a_press_moves_no_servo(tmp_path):
    with board_with(tmp_path, None, time_iso=None) as board:
        since = board.control.state()["trace_next"]
        with Device(board.port) as device:
            reply = device.request("selftest", {"step": "servo", "hopper": 0, "wait_ms": 1000})
        assert reply == {"ok": False}
        assert board.control.servo_moves(since) == []
