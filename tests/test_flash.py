"""pillctl flash, ports and time sync on a real simulated board (MicroPython, pty, mpremote)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from conftest import run_pillctl
from simhelpers import run_pillctl_with_hold, unlock

import dispenser
from pillctl.executables import require_tool
from pillctl.flashing import ImageFile, build_image, device_dirs
from pillctl.sim.process import SimProcess


@pytest.fixture
def blank_board(tmp_path):
    """A simulated board with an empty flash: it boots into the plain REPL."""
    with SimProcess(tmp_path / "blank", "--blank") as board:
        yield board


def mpremote_ls(port: str, path: str = ":") -> str:
    result = subprocess.run(
        [require_tool("mpremote"), "connect", port, "resume", "fs", "ls", path],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def status_hello(port: str) -> dict:
    result = run_pillctl("status", "--port", port, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["hello"]


def assert_host_time(port: str) -> dict:
    """The board's clock reads the host's time, to the second: its `t` (whole seconds)
    lies within 2 s of the host's time while `pillctl status` ran, however long the
    process took to start and end on a loaded machine."""
    before = time.time()
    hello = status_hello(port)
    after = time.time()
    assert hello["clock"] == "set" and before - 2 <= hello["t"] <= after + 2, (before, after)
    return hello


def test_image_compiles_modules_and_the_board_and_keeps_only_main_as_source(tmp_path):
    image = build_image("pico", tmp_path)
    targets = {f.target for f in image}
    assert {"main.py", "board.mpy", "rp2common.mpy", "dispenser/app.mpy"} <= targets
    assert "board.py" not in targets
    assert "dispenser/cpython_shim.mpy" not in targets
    assert all(f.local.stat().st_size > 0 for f in image)
    assert "rp2common.mpy" not in {f.target for f in build_image("sim", tmp_path / "sim")}


def test_device_dirs_lists_parents_first():
    image = [ImageFile(Path("x"), "dispenser/drivers/button.mpy"), ImageFile(Path("y"), "a.py")]
    assert device_dirs(image) == ["dispenser", "dispenser/drivers"]


def test_flash_a_blank_sim_deploys_mpy_restarts_and_sets_the_clock(blank_board):
    started = time.monotonic()
    result = run_pillctl("flash", "--board", "sim", "--port", blank_board.port)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    assert result.stdout.count("\n") == 1
    assert f"firmware {dispenser.VERSION}" in result.stdout and "sim" in result.stdout

    hello = assert_host_time(blank_board.port)
    assert hello["fw"] == dispenser.VERSION and hello["board"] == "sim"
    assert hello["reset"] == "reset"  # the flash restarted it: machine.reset()

    # The app now runs and USB alone no longer reaches its REPL: open it as a person does
    # (pillctl maintenance and a hold), then list the flash with mpremote.
    unlock(blank_board)
    root = mpremote_ls(blank_board.port)
    assert "main.py" in root and "board.mpy" in root and "dispenser/" in root
    assert "board.py" not in root
    assert "cpython_shim" not in root
    package = mpremote_ls(blank_board.port, ":dispenser")
    assert "app.mpy" in package and "core/" in package and ".py" not in package
    assert "protocol.mpy" in mpremote_ls(blank_board.port, ":dispenser/core")


def test_flash_a_running_sim_asks_for_the_hold_and_replaces_the_source_modules(sim_board):
    assert list((sim_board.fs / "dispenser").glob("*.py"))  # pre-flashed with sources
    calibrated = ["calibrate", "1", "--rest", "650", "--drop", "2250", "--port", sim_board.port]
    assert run_pillctl(*calibrated).returncode == 0
    # The app is locked: flash says to hold the button, the person holds it (the sim's
    # control channel), and only then does mpremote reach the REPL.
    code, _, err = run_pillctl_with_hold(sim_board, "flash", "--port", sim_board.port)
    assert code == 0, err
    assert "hold the dispenser's button for 2 s" in err
    assert not list((sim_board.fs / "dispenser").rglob("*.py"))  # stale modules gone
    assert (sim_board.fs / "dispenser" / "app.mpy").is_file()
    # The source board.py would shadow the new board.mpy: the flash removed it.
    assert (sim_board.fs / "board.mpy").is_file() and not (sim_board.fs / "board.py").exists()
    assert status_hello(sim_board.port)["fw"] == dispenser.VERSION
    # The servo calibration is the build's, not the firmware's: the update kept it.
    status = json.loads(run_pillctl("status", "--json", "--port", sim_board.port).stdout)
    assert status["status"]["servos"][1] == [650, 2250]


def test_flash_a_board_left_in_the_repl_by_mpremote(sim_board):
    code, _, err = run_pillctl_with_hold(sim_board, "maintenance", "--port", sim_board.port)
    assert code == 0, err
    mpremote_ls(sim_board.port)  # the firmware is in maintenance mode, at its REPL
    # Without --board: the board file the firmware installed (board.py's NAME) says which.
    # The app does not run, so no hold is asked for.
    result = run_pillctl("flash", "--port", sim_board.port)
    assert result.returncode == 0, result.stderr
    assert "hold" not in result.stderr
    assert status_hello(sim_board.port)["board"] == "sim"


def test_flash_a_missing_port_fails_with_one_line(tmp_path):
    result = run_pillctl("flash", "--board", "sim", "--port", str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert result.stderr.startswith("pillctl: ") and result.stderr.count("\n") == 1
    assert "no such port" in result.stderr
    assert "Traceback" not in result.stderr


def test_ports_lists_pillctl_port_as_running_our_firmware(sim_board, monkeypatch):
    monkeypatch.setenv("PILLCTL_PORT", sim_board.port)
    result = run_pillctl("ports", "--json")
    assert result.returncode == 0, result.stderr
    [entry] = [e for e in json.loads(result.stdout) if e["port"] == sim_board.port]
    assert entry["dispenser"] is True and entry["source"] == "$PILLCTL_PORT"
    assert entry["hello"]["board"] == "sim"
    text = run_pillctl("ports")
    assert f"{sim_board.port} ($PILLCTL_PORT): dispenser firmware" in text.stdout


def test_ports_says_a_blank_board_does_not_run_our_firmware(blank_board, monkeypatch):
    # The plain REPL echoes the hello line back; that echo is not an answer.
    monkeypatch.setenv("PILLCTL_PORT", blank_board.port)
    result = run_pillctl("ports", "--json")
    assert result.returncode == 0, result.stderr
    [entry] = [e for e in json.loads(result.stdout) if e["port"] == blank_board.port]
    assert entry["dispenser"] is False


def test_ports_with_nothing_found_exits_0_with_a_hint(monkeypatch):
    monkeypatch.delenv("PILLCTL_PORT", raising=False)
    result = run_pillctl("ports")
    assert result.returncode == 0, result.stderr
    # On a machine with a real Pico plugged in, that one is listed instead.
    assert "no boards found" in result.stdout or "(usb)" in result.stdout


def test_time_sync_sets_an_unknown_clock_to_host_time(sim_board):
    assert status_hello(sim_board.port)["clock"] == "unknown"
    result = run_pillctl("time", "sync", "--port", sim_board.port)
    assert result.returncode == 0, result.stderr
    assert "clock was unknown" in result.stdout and "after:" in result.stdout
    assert_host_time(sim_board.port)


def test_time_sync_reports_the_offset_it_corrected(sim_board):
    sim_board.control.set_clock(time.time() - 3600)  # an hour slow
    result = run_pillctl("time", "sync", "--port", sim_board.port, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert -3602 <= report["offset"] <= -3598
    assert abs(report["after"] - report["host"]) <= 1
    assert_host_time(sim_board.port)
