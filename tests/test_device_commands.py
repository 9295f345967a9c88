"""pillctl push, refill, status and monitor against the sim board, as separate processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from conftest import ROOT, run_pillctl

from pillctl.device import DeviceError, open_device
from pillctl.schedule import compile_file
from pillctl.schedule.hashing import embedded_hash, with_hash
from pillctl.transfer import push_schedule

BONE_HEALTH = ROOT / "schedules" / "bone-health.toml"


def device_status(port: str) -> dict:
    result = run_pillctl("status", "--port", port, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["status"]


def test_push_installs_the_schedule_and_the_device_reports_its_hash(sim_board):
    result = run_pillctl("push", str(BONE_HEALTH), "--port", sim_board.port)
    assert result.returncode == 0, result.stderr
    expected = embedded_hash(compile_file(BONE_HEALTH))
    assert expected[:16] in result.stdout
    assert device_status(sim_board.port)["schedule"]["sha256"] == expected


def test_a_schedule_with_errors_never_leaves_the_host(tmp_path):
    unsafe = tmp_path / "unsafe.toml"
    text = BONE_HEALTH.read_text().replace(
        "age = ", "medications = [{ kind = 'warfarin' }]\nage = ", 1
    )
    unsafe.write_text(text)
    # No device at this port: the schedule is rejected before any connection is tried.
    result = run_pillctl("push", str(unsafe), "--port", str(tmp_path / "no-such-port"))
    assert result.returncode == 1
    assert "K2-VKA" in result.stderr and "no-such-port" not in result.stderr


def test_the_devices_own_refusal_is_a_clear_message_and_keeps_the_old_schedule(sim_board):
    good = compile_file(BONE_HEALTH)
    tampered = json.loads(good[: good.rfind(b',"sha256"')] + b"}")
    tampered["caps"]["vitd"] = 10000  # over the firmware's absolute cap, no override
    with open_device(sim_board.port) as device:
        push_schedule(device, good)
        try:
            push_schedule(device, with_hash(tampered))
        except DeviceError as exc:
            # worded at the host from the code, path and values the device replied
            assert exc.code == "refused" and exc.refusal["path"] == ["caps", "vitd"]
            assert str(exc) == (
                "device refused schedule.put: schedule rejected: cap 10000 is over the absolute"
                " cap of 4000 without its override (caps.vitd) (refused)"
            )
        else:
            raise AssertionError("device accepted caps over its absolute limit")
    assert device_status(sim_board.port)["schedule"]["sha256"] == embedded_hash(good)


def test_refill_sets_the_stock_and_unknown_compartments_are_named(sim_board):
    assert run_pillctl("push", str(BONE_HEALTH), "--port", sim_board.port).returncode == 0
    result = run_pillctl("refill", "ca", "60", "--port", sim_board.port)
    assert result.returncode == 0, result.stderr
    stock = {c["id"]: c["stock"] for c in device_status(sim_board.port)["compartments"]}
    assert stock == {"d3": None, "k2": None, "ca": 60}
    result = run_pillctl("refill", "zinc", "5", "--port", sim_board.port)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "pillctl: no compartment 'zinc' on this dispenser (known: d3, k2, ca)"
    )


def test_monitor_streams_events_until_ctrl_c(sim_board):
    env_path = str(ROOT / "host")
    monitor = subprocess.Popen(
        [sys.executable, "-m", "pillctl", "monitor", "--port", sim_board.port],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        # As from a terminal: a test run started in the background (CI, `make test &`)
        # hands its children SIGINT ignored, and Python then never raises KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        # monitor says on stderr when it is connected; then its stdout shows the press.
        assert monitor.stderr is not None and monitor.stdout is not None
        assert monitor.stderr.readline().startswith("monitoring ")
        sim_board.control.press()
        line = monitor.stdout.readline()
    finally:
        monitor.send_signal(signal.SIGINT)
        out, err = monitor.communicate(timeout=10)
    assert monitor.returncode == 0, err
    assert "press" in line and "long=False" in line
