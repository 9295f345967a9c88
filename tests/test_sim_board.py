"""End to end on the real MicroPython unix port behind a real pseudo-terminal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import serial
from conftest import run_pillctl
from simhelpers import next_event, run_pillctl_with_hold, wait_hello

from dispenser.core import protocol
from pillctl.device import Device
from pillctl.sim import serialpty
from pillctl.sim.firmware_image import install_source
from pillctl.sim.runner import SimOptions, SimRunner


def test_status_reports_what_hello_returned(sim_board):
    result = run_pillctl("status", "--port", sim_board.port, "--json")
    assert result.returncode == 0, result.stderr
    hello = json.loads(result.stdout)["hello"]
    assert hello["board"] == "sim"
    assert hello["proto"] == protocol_version()
    assert hello["clock"] == "unknown"
    assert hello["id"] == sim_board.control.state()["device_id"]


def protocol_version() -> int:
    from dispenser import PROTOCOL_VERSION

    return PROTOCOL_VERSION


def test_button_press_shows_in_trace_and_on_serial(sim_board):
    control = sim_board.control
    # A full time-unknown blink before the press.
    on = control.wait_for("led.status", 0, value=1, timeout=30)
    assert on is not None and control.wait_for("led.status", on["seq"], value=0, timeout=30)
    with serial.Serial(sim_board.port, timeout=30) as port:
        port.reset_input_buffer()
        since = control.press()
        press = next_event(port, "press")
    assert press == {"kind": "press", "t": None, "long": False}
    # Without a schedule the press is answered with the "nothing due" flicker: the status
    # LED's on-times in the trace change from the time-unknown blink's 100 ms to 60 ms
    # (a busy machine only ever makes them longer).
    assert all(95 <= ms < 140 for ms in status_led_on_times(control, 0, since))
    cursor = since
    while not [ms for ms in status_led_on_times(control, since) if 55 <= ms < 95]:
        off = control.wait_for("led.status", cursor, value=0, timeout=30)
        assert off is not None, "no nothing-due flicker after the press"
        cursor = off["seq"] + 1


def status_led_on_times(control, since: int, until: int | None = None) -> list[int]:
    """How long the status LED stayed on each time, in the board's milliseconds."""
    on_times, switched_on = [], None
    for event in control.trace(since):
        if until is not None and event["seq"] >= until:
            break
        if event["name"] == "led.status":
            if event["value"] == "1":
                switched_on = event["ticks_ms"]
            elif switched_on is not None:
                on_times.append(event["ticks_ms"] - switched_on)
    return on_times


def test_clock_set_through_protocol_and_stepped_through_control(sim_board):
    from pillctl.device import open_device

    with open_device(sim_board.port) as device:
        reply = device.request("time.set", {"t": 1_800_000_000})
        assert abs(reply["t"] - 1_800_000_000) <= 1
        # Setting the clock is logged, and the log record is announced as an event (after
        # any the board sent before, such as its boot record, held for the first client).
        kinds = [device.read_event(2) for _ in range(3)]
        assert "clock_set" in [event["kind"] for event in kinds if event is not None]
    sim_board.control.step_to(1_800_000_000 + 7 * 86400)
    result = run_pillctl("status", "--port", sim_board.port, "--json")
    assert json.loads(result.stdout)["hello"]["t"] >= 1_800_000_000 + 7 * 86400


def test_power_cut_then_device_answers_again(sim_board):
    control = sim_board.control
    control.power(False)
    result = run_pillctl("status", "--port", sim_board.port, "--timeout", "1")
    assert result.returncode == 1
    assert result.stderr.startswith("pillctl: no answer")
    since = control.state()["trace_next"]
    state = control.power(True)
    assert state["boots"] == 2
    # The firmware runs again once its status LED does: a slow machine may take seconds.
    assert control.wait_for("led.status", since, timeout=30) is not None
    result = run_pillctl("status", "--port", sim_board.port, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hello"]["reset"] == "power"


def test_mpremote_sees_the_firmware_files_in_maintenance(sim_board):
    code, _, err = run_pillctl_with_hold(sim_board, "maintenance", "--port", sim_board.port)
    assert code == 0, err
    mpremote = shutil.which("mpremote") or str(Path(sys.executable).parent / "mpremote")
    result = subprocess.run(
        [mpremote, "connect", sim_board.port, "resume", "fs", "ls"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    for name in ("main.py", "board.py", "dispenser/"):
        assert name in result.stdout
    # Maintenance mode is not dead: the watchdog is still fed.
    events = sim_board.control.trace(0)
    assert not [e for e in events if e["kind"] == "sim" and e["name"] == "watchdog"]


def _reply(port: serial.Serial) -> tuple:
    """The next reply frame: the boot event the board holds for its first client may
    come first, whenever the client's first read happens."""
    while True:
        frame = protocol.decode(port.readline().decode().strip())
        if frame[1] != "evt":
            return frame


def test_garbage_and_bad_frames_get_error_frames_and_no_state_change(sim_board):
    with serial.Serial(sim_board.port, timeout=2) as port:
        port.reset_input_buffer()
        port.write(b"\x00\xff garbage that is not a frame\n")
        port.write(b"P1 5 hello {} 00000000\n")
        bad_crc = _reply(port)
        port.write(b"x" * 5000 + b"\n")
        too_long = _reply(port)
        port.write((protocol.encode(6, "hello", {}) + "\n").encode())
        hello = _reply(port)
    assert bad_crc[1:] == ("err", {"code": "bad_crc", "msg": "checksum mismatch"})
    assert too_long[2]["code"] == "too_long"
    assert hello[0] == 6 and hello[1] == "ok" and hello[2]["clock"] == "unknown"


def test_status_on_a_silent_port_fails_within_bounded_time(tmp_path):
    import os
    import pty

    master, slave = pty.openpty()
    try:
        started = time.monotonic()
        result = run_pillctl("status", "--port", os.ttyname(slave), "--timeout", "1")
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1 and "no answer" in result.stderr
        assert time.monotonic() - started < 15
    finally:
        os.close(master)
        os.close(slave)


def test_maintenance_gives_a_bounded_window_then_the_watchdog_restarts(tmp_path):
    from pillctl.sim.process import SimProcess

    env = {"PILLCTL_SIM_MAINTENANCE_S": "2"}
    with SimProcess(tmp_path / "b", env=env) as board:
        code, _, err = run_pillctl_with_hold(board, "maintenance", "--port", board.port)
        assert code == 0, err
        # In the REPL nothing of ours answers, but the watchdog is fed for the window ...
        since = board.control.state()["trace_next"]
        assert board.control.wait_for("watchdog", since, timeout=1) is None
        # ... and once it ends, the starved watchdog resets the board back into the app.
        assert board.control.wait_for("watchdog", since, timeout=20) is not None
        result = run_pillctl("status", "--port", board.port, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["hello"]["reset"] == "wdt"


def test_a_ctrl_c_is_dropped_and_the_request_right_behind_it_answered(tmp_path, monkeypatch):
    """The app turned the keyboard interrupt off (main.py, kbd_intr(-1)), which on the unix
    port uninstalls MicroPython's SIGINT handler: board_process.py takes the SIGINT, sees
    it not armed and drops it, as a Pico's USB stack passes the 0x03 on as a plain byte. So
    the request right behind the Ctrl-C reaches the app and is answered; no REPL opens.
    (Before the lock, the Ctrl-C stopped the app and the request never got an answer.)"""
    acked: list[bool] = []
    real_wait_ack = serialpty.DevicePty.wait_ack

    def wait_ack(device):
        acked.append(real_wait_ack(device))
        return acked[-1]

    monkeypatch.setattr(serialpty.DevicePty, "wait_ack", wait_ack)
    monkeypatch.setattr(serialpty, "ACK_TIMEOUT_S", 30.0)  # only an acknowledgement ends it
    install_source(tmp_path / "fs")
    runner = SimRunner(SimOptions(fs=tmp_path / "fs"))
    runner.start()
    request = (protocol.encode(77, "hello", {}) + "\n").encode()
    rounds = 4
    try:
        with Device(runner.port) as device:
            wait_hello(device)  # the app runs and answers
        for _ in range(rounds):
            with serial.Serial(runner.port, timeout=30) as port:
                port.reset_input_buffer()
                port.write(b"\x03" + request)
                out = port.read_until(b"P1 77 ok").decode(errors="replace")
                assert out.endswith("P1 77 ok"), out
                assert ">>>" not in out and "maintenance" not in out, out
        assert acked == [True] * rounds  # board_process.py took (and dropped) every Ctrl-C
    finally:
        runner.stop()
