"""An override is installed only after a person holds the button on the device (simulated
board, real firmware): a forged device file over schedule.put changes nothing without the
hold, `pillctl push` waits for the hold, and status and the log name who signed it."""

from __future__ import annotations

import hashlib
import subprocess

from conftest import ROOT, run_pillctl, run_pillctl_acting
from simhelpers import board_with, bone_health_with_override, compiled, log_records, unlock, utc

from dispenser.core import logrec
from pillctl.device import DeviceError, open_device
from pillctl.executables import require_tool
from pillctl.transfer import push_schedule

D3_LUNCH = logrec.id_key("d3-lunch")


def _forged(by: str) -> bytes:
    """bone-health as a device file written by hand: 10,000 IU of D3 a day under a D3-UL
    'override' that no clinician signed and no validator saw."""
    return bone_health_with_override(10000, by=by, why="forged")


def _d3_given(board) -> list[int]:
    return [
        r["amount"] for r in log_records(board) if r["kind"] == "dispense" and r["dose"] == D3_LUNCH
    ]


def _longest_status_led_on_ms(board, since: int) -> int:
    """The longest time the status LED stayed on since trace event `since`, by the board's
    own ticks: the override pattern holds it on for 1 s, every other pattern far less."""
    longest, on_at = 0, None
    for event in board.control.trace(since):
        if event["name"] != "led.status" or event["ticks_ms"] is None:
            continue
        if event["value"] == "1":
            on_at = event["ticks_ms"]
        elif on_at is not None:
            longest = max(longest, event["ticks_ms"] - on_at)
            on_at = None
    return longest


def _press_at_lunch(board) -> None:
    board.control.step_to(utc(11, 35))  # 12:35 in Berlin
    since = board.control.press()
    assert board.control.wait_for("servo.0", since, timeout=10) is not None


def _override_schedule(tmp_path) -> str:
    text = (ROOT / "schedules" / "bone-health.toml").read_text(encoding="utf-8")
    text = text.replace("strength = 2000", "strength = 5000") + (
        '\n[[overrides]]\nrule = "D3-UL"\nclinician = "Dr. Ada Lovelace"\n'
        'reason = "vitamin D deficiency, 25(OH)D 8 ng/mL"\n'
    )
    path = tmp_path / "repletion.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_forged_override_without_the_hold_changes_nothing(tmp_path):
    with board_with(tmp_path / "b", compiled("bone-health")) as board:
        with open_device(board.port, timeout=10) as device:
            try:
                push_schedule(device, _forged(" "))
                raise AssertionError("a blank signer was accepted")
            except DeviceError as refusal:
                assert "by must be" in str(refusal)
            since = board.control.trace()[-1]["seq"] if board.control.trace() else 0
            reply = push_schedule(device, _forged("Dr. Forger"), confirm_s=3)
            assert reply["confirm"]["rules"] == ["D3-UL"]
            assert reply["confirm"]["signers"] == ["Dr. Forger"]
            status = device.request("status")
            assert status["confirm"]["sha256"] == reply["sha256"]
            old = status["schedule"]["sha256"]
            while "confirm" in status:  # the device's own 3 s wait runs out
                status = device.request("status")
            assert status["schedule"]["sha256"] == old
        assert _longest_status_led_on_ms(board, since) >= 700
        _press_at_lunch(board)
        assert _d3_given(board) == [2000]  # the old schedule's dose, not 10,000 IU
        kinds = [(r["kind"], r.get("code")) for r in log_records(board)]
        assert ("override_pending", None) in kinds
        assert ("error", logrec.ERR_OVERRIDE_UNCONFIRMED) in kinds
        assert "override" not in [kind for kind, _ in kinds]


def test_push_waits_for_the_hold_then_status_and_log_show_the_signer(tmp_path):
    schedule = _override_schedule(tmp_path)
    with board_with(tmp_path / "b", compiled("bone-health")) as board:
        # nobody at the device: one line saying why, exit 1, the old schedule stays
        late = run_pillctl("push", schedule, "--port", board.port, "--confirm-seconds", "2")
        assert late.returncode == 1
        assert late.stderr.splitlines()[-1] == (
            "pillctl: not installed: nobody held the dispenser's button for 2 s in time, so "
            "the old schedule stays; push again and hold the button"
        )
        moved_from = []

        def confirm_at_device(line: str, _stdin) -> None:
            if "hold its button" not in line:  # printed once the device holds the schedule
                return
            assert "hold its button for 2 s within 60 s" in line and "Dr. Ada Lovelace" in line
            # a short press meanwhile is neither a dose nor the confirmation
            board.control.step_to(utc(11, 35))
            moved_from.append(board.control.press())
            board.control.press(ms=3000)

        code, out, err = run_pillctl_acting(
            "push", schedule, "--port", board.port, act=confirm_at_device, timeout=60
        )
        assert moved_from, "pillctl never said to hold the button:\n" + out + err
        assert code == 0, err
        assert "confirmed at the dispenser" in out
        (since,) = moved_from
        assert board.control.servo_moves(since) == []  # neither press dispensed
        with open_device(board.port, timeout=10) as device:
            status = device.request("status")
        overrides = status["schedule"]["overrides"]
        assert overrides["signers"] == ["Dr. Ada Lovelace"] and overrides["rules"] == ["D3-UL"]
        assert overrides["confirmed"] == int(utc(11, 35))
        (record,) = [r for r in log_records(board) if r["kind"] == "override"]
        assert record["signer"] == "Dr. Ada Lovelace" and record["t"] == int(utc(11, 35))
        # the confirmed schedule now gives its 5,000 IU at lunch
        since = board.control.press()
        assert board.control.wait_for("servo.0", since, timeout=10) is not None
        assert _d3_given(board) == [5000]


def test_an_override_copied_with_mpremote_never_dispenses_above_the_cap(tmp_path):
    """Issue 17: in the maintenance REPL (a hold at the device), `mpremote fs cp` puts a
    schedule.json with a 10,000 IU D3-UL override on the flash, and a confirmed.txt from
    another install beside it. The next boot runs it at the normal limits: the lunch D3 is
    refused, status says the overrides are not applied, the log says why."""
    forged = tmp_path / "schedule.json"
    forged.write_bytes(_forged("Dr. Forger"))
    confirmed = tmp_path / "confirmed.txt"
    confirmed.write_text(f"{hashlib.sha256(forged.read_bytes()).hexdigest()} 1796000000")
    with board_with(tmp_path / "b", compiled("bone-health")) as board:
        unlock(board)
        copied = subprocess.run(
            [require_tool("mpremote"), "connect", board.port, "resume",
             "fs", "cp", str(forged), ":schedule.json", "+",
             "fs", "cp", str(confirmed), ":confirmed.txt"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert copied.returncode == 0, copied.stderr
        back = run_pillctl("status", "--port", board.port)  # restarts the app: a boot
        assert back.returncode == 0, back.stderr
        with open_device(board.port, timeout=10) as device:
            overrides = device.request("status")["schedule"]["overrides"]
        assert overrides["applied"] is False and overrides["confirmed"] is None
        _press_at_lunch_refused(board)
        assert _d3_given(board) == []
        kinds = [(r["kind"], r.get("code"), r.get("reason")) for r in log_records(board)]
        assert ("error", logrec.ERR_OVERRIDE_UNBOUND, None) in kinds
        assert ("refused", None, logrec.REASON_CAP) in kinds


def _press_at_lunch_refused(board) -> None:
    board.control.step_to(utc(11, 35))
    since = board.control.press()
    assert board.control.wait_for("servo.1", since, timeout=10) is not None  # K2 still drops
