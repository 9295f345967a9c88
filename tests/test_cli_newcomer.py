"""A newcomer's usual mistakes, each answered in one line `pillctl: ...`, and the commands'
output as a person reads it (names, local time, one JSON object per line)."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from conftest import ROOT, run_pillctl
from simhelpers import board_with, compiled, unlock

from pillctl.cli import hoist_global_flags
from pillctl.commands.monitor import describe
from pillctl.device import open_device
from pillctl.executables import require_tool
from pillctl.names import Names
from pillctl.sim.process import SimProcess

BONE_HEALTH = ROOT / "schedules" / "bone-health.toml"


def one_line(result, code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pillctl: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["compile", "nope.toml", "-o", "x.json"], "nope.toml"),
        (["export-ics", str(BONE_HEALTH)], "Missing option '-o'"),
        (["compile", str(BONE_HEALTH)], "Missing option '-o'"),
        (["refill", "d3"], "Missing argument 'COUNT'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_mistakes_are_one_line(args, expect):
    line = one_line(run_pillctl(*args), 2 if args[0] != "compile" or "-o" not in args else 1)
    assert expect in line and "Usage:" not in line


@pytest.mark.parametrize(
    ("args", "fixed"),
    [
        (["--port", "/dev/ttyX", "status"], "pillctl status --port /dev/ttyX"),
        (["--json", "status"], "pillctl status --json"),
        (["--port=P", "wifi", "set", "home"], "pillctl wifi set --port=P home"),
    ],
)
def test_a_commands_option_before_the_command_says_where_it_goes(args, fixed):
    line = one_line(run_pillctl(*args), 2)
    assert line == f"pillctl: {args[0].split('=')[0]} goes after the command's name: `{fixed}`"


def test_validate_of_a_file_that_is_not_there_is_one_line(tmp_path):
    missing = tmp_path / "nope.toml"
    result = run_pillctl("validate", str(missing))
    line = one_line(result, 1)
    assert str(missing) in line and "cannot read the file" in line
    assert result.stdout == ""


def test_mqtt_set_with_the_brokers_port_in_port_says_where_it_goes():
    line = one_line(run_pillctl("mqtt", "set", "127.0.0.1", "--port", "34629"), 1)
    assert "the broker's port goes in HOST:PORT" in line
    assert "`pillctl mqtt set 127.0.0.1:34629`" in line


def test_mqtt_password_stdin_without_a_user_is_refused_before_any_port(tmp_path):
    # It would read a password and then drop it: a script must hear that, not succeed.
    done = run_pillctl(
        "mqtt", "set", "127.0.0.1", "--password-stdin", "--port", str(tmp_path / "none"),
        stdin="secret\n",
    )  # fmt: skip
    assert "--password-stdin reads the broker user's password: add --user" in one_line(done, 1)


@pytest.mark.parametrize("count", ["-5", "ten", "2.5"])
def test_a_refill_count_that_is_no_whole_number_is_one_line_before_any_port(count, tmp_path):
    line = one_line(run_pillctl("refill", "d3", count, "--port", str(tmp_path / "none")), 1)
    assert line == (
        f"pillctl: refill: COUNT must be a whole number of pills (0 or more), not {count!r}"
    )


def test_a_missing_port_says_so_once_and_how_to_get_one(tmp_path):
    port = str(tmp_path / "ttyNOPE")
    line = one_line(run_pillctl("status", "--port", port), 1)
    assert line.count(port) == 2  # the port, and in the `pillctl sim --link` hint
    assert "Errno" not in line and "plug in the Pico" in line and "pillctl sim" in line


def test_debug_works_anywhere_on_the_line(tmp_path):
    assert hoist_global_flags(["status", "--debug"]) == ["--debug", "status"]
    assert hoist_global_flags(["x", "--", "--debug"]) == ["x", "--", "--debug"]
    result = run_pillctl("status", "--port", str(tmp_path / "nope"), "--debug")
    assert "Traceback" in result.stderr and "PillctlError" in result.stderr


def test_refill_over_the_compartments_capacity_is_refused_on_host_and_device(sim_board):
    assert run_pillctl("push", str(BONE_HEALTH), "--port", sim_board.port).returncode == 0
    line = one_line(run_pillctl("refill", "d3", "500", "--port", sim_board.port), 1)
    assert line == "pillctl: compartment d3 holds at most 90 pills, not 500: count again"
    from pillctl.device import DeviceError, open_device

    with open_device(sim_board.port) as device:  # the device checks it too
        with pytest.raises(DeviceError, match="d3 holds at most 90 pills, not 91"):
            device.request("refill", {"hopper": 0, "count": 91})
        status = device.request("status")
    assert [c["stock"] for c in status["compartments"]] == [None, None, None]


def test_push_and_logs_start_without_a_blank_line(sim_board, tmp_path):
    result = run_pillctl("push", str(BONE_HEALTH), "--port", sim_board.port)
    assert result.returncode == 0 and result.stdout.startswith("installed bone-health")
    assert result.stderr == ""
    result = run_pillctl(
        "logs", "--port", sim_board.port, env={"PILLCTL_DATA_DIR": str(tmp_path / "d")}
    )
    assert result.returncode == 0 and result.stderr.startswith("pulled ")


def test_status_in_the_schedules_zone_in_time_order_with_memory_and_run_out(tmp_path):
    # 05:00 in London: levothyroxine (06:30, last in the schedule) is due first today.
    with board_with(tmp_path, compiled("levothyroxine-morning")) as board:
        assert run_pillctl("refill", "ca", "9", "--port", board.port).returncode == 0
        result = run_pillctl("status", "--port", board.port)
        as_json = run_pillctl("status", "--json", "--port", board.port)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2026-11-30 05:00:00 Europe/London (2026-11-30 05:00:00 UTC)" in out
    assert "memory" in out and "KB free" in out
    rows = [out.index(f"│ {dose} ") for dose in ("levo", "d3-lunch", "ca-lunch", "ca-dinner")]
    assert rows == sorted(rows)
    assert "t0630" not in out and "06:30" in out  # a clock-time slot by its time
    assert "levothyroxine 75 mcg" in out
    # 9 calcium pills, two a day: the fifth day's lunch finds one short.
    assert "2026-12-04, in 4 days: refill soon" in out
    # The device's own forecast, in the JSON too (null for compartments never refilled).
    compartments = json.loads(as_json.stdout)["status"]["compartments"]
    assert {c["id"]: c["runs_out"] for c in compartments} == {
        "d3": None,
        "k2": None,
        "ca": "2026-12-04",
    }


def _lines_until(stream, predicate, timeout: float = 30) -> list[str]:
    """Lines of `stream` up to the first one `predicate` accepts (bounded wait)."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.5)
        if ready:
            line = stream.readline()
            if not line:
                break
            lines.append(line)
            if predicate(line):
                return lines
    raise AssertionError(f"no such line within {timeout} s: {lines}")


def test_monitor_names_doses_and_json_is_one_object_per_line(tmp_path):
    # 12:35 in Berlin: lunch is due, a press drops D3 and K2.
    with board_with(tmp_path, compiled("bone-health"), time_iso="2026-11-30T11:35:00+00:00") as b:
        monitor = subprocess.Popen(
            [sys.executable, "-m", "pillctl", "monitor", "--json", "--port", b.port],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"PYTHONPATH": str(ROOT / "host"), "PATH": "/usr/bin:/bin"},
            # A test run started in the background hands its children SIGINT ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            assert monitor.stderr is not None and monitor.stdout is not None
            assert "times in Europe/Berlin" in _lines_until(monitor.stderr, bool)[0]
            b.control.press()
            lines = _lines_until(monitor.stdout, lambda line: '"dispense"' in line)
        finally:
            monitor.send_signal(signal.SIGINT)
            monitor.communicate(timeout=10)
    events = [json.loads(line) for line in lines]  # each line holds one whole event
    dispense = events[-1]
    assert dispense["names"] == {
        "dose": "d3-lunch",
        "meal": "lunch",
        "compartment": "d3 (vitamin D3)",
        "pills": "1",
        "amount": "2000 IU",
    }
    assert dispense["local"] == "2026-11-30T12:35:00+0100"
    fields = ("seq", "t", "kind", "dose", "hopper_nut", "pills", "amount")
    raw = {name: dispense[name] for name in fields}  # as the device sends it
    assert describe(raw, Names(json.loads(compiled("bone-health")))) == (
        "2026-11-30 12:35:00  dispense   dose=d3-lunch meal=lunch "
        "compartment=d3 (vitamin D3) pills=1 amount=2000 IU"
    )
    press = next(e for e in events if e["kind"] == "press")
    assert press["local"] == "2026-11-30T12:35:00+0100"  # a press has its time too
    assert describe(press, Names(None)).startswith("2026-11-30 ")


def _leave_in_maintenance_repl(board) -> None:
    """What the README's own `pillctl maintenance` (a hold at the device) and `mpremote ...
    resume fs ls` do to the board."""
    unlock(board)
    result = subprocess.run(
        [require_tool("mpremote"), "connect", board.port, "resume", "fs", "ls"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_a_board_left_in_the_maintenance_repl_is_brought_back_in_one_line(sim_board):
    _leave_in_maintenance_repl(sim_board)
    kept = run_pillctl("--no-restart", "status", "--port", sim_board.port, "--timeout", "1")
    line = one_line(kept, 1)
    assert "is in its maintenance REPL" in line and "without --no-restart" in line
    result = run_pillctl("status", "--json", "--port", sim_board.port, "--timeout", "1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        f"pillctl: {sim_board.port} was in its maintenance REPL; restarting the app"
    )
    assert json.loads(result.stdout)["hello"]["board"] == "sim"
    # the app runs again: the next command needs no recovery
    again = run_pillctl("status", "--json", "--port", sim_board.port)
    assert again.returncode == 0 and again.stderr == ""


def test_a_blank_board_in_its_repl_is_told_to_flash(tmp_path):
    with SimProcess(tmp_path / "blank", "--blank") as board:
        line = one_line(run_pillctl("status", "--port", board.port, "--timeout", "1"), 1)
    assert "runs MicroPython without the dispenser firmware" in line
    assert "pillctl flash --board" in line


def test_logs_since_alone_prints_the_records_readable(sim_board, tmp_path):
    assert run_pillctl("push", str(BONE_HEALTH), "--port", sim_board.port).returncode == 0
    assert run_pillctl("refill", "k2", "30", "--port", sim_board.port).returncode == 0
    store = {"PILLCTL_DATA_DIR": str(tmp_path / "data")}
    result = run_pillctl("logs", "--since", "1", "--port", sim_board.port, env=store)
    assert result.returncode == 0, result.stderr
    assert "refill     compartment=k2 (vitamin K2 (MK-7)) count=30" in result.stdout


def test_status_says_why_there_is_no_due_table_or_run_out_date(tmp_path):
    """No empty "still due today" table and no blank "runs out" cell: each says why."""
    with board_with(tmp_path, compiled("bone-health"), time_iso=None) as board:  # clock unknown
        assert run_pillctl("refill", "ca", "9", "--port", board.port).returncode == 0
        unknown = run_pillctl("status", "--port", board.port)
        with open_device(board.port) as device:  # 23:00 in Berlin: today's windows are over
            device.request(
                "time.set", {"t": int(datetime(2026, 11, 30, 22, tzinfo=UTC).timestamp())}
            )
        late = run_pillctl("status", "--port", board.port)
    assert unknown.returncode == 0 and late.returncode == 0, unknown.stderr + late.stderr
    assert "still due today: unknown until the clock is set (`pillctl time sync`)" in unknown.stdout
    assert "still due today (" not in unknown.stdout  # no empty table
    ca_row = next(line for line in unknown.stdout.splitlines() if "│ ca " in line)
    assert "once the clock is set" in ca_row
    assert "last reset  power" in unknown.stdout
    assert "still due today: nothing left for today" in late.stdout
    assert "still due today (" not in late.stdout


def test_the_alerts_line_is_plain_english():
    """It read `MQTT not set to no broker set` and `MQTT unreachable to 127.0.0.1:34629`."""
    from pillctl.commands.network import net_status_line

    unset = {"wifi": "not set", "ssid": None, "mqtt": "not set", "broker": None, "acked": 0}
    assert net_status_line(unset) == (
        "no Wi-Fi network set (`pillctl wifi set SSID`); "
        "no broker set (`pillctl mqtt set HOST[:PORT]`); no alert sent yet"
    )
    down = {"wifi": "up", "ssid": "home", "mqtt": "unreachable", "broker": "127.0.0.1:34629",
            "acked": 12}  # fmt: skip
    assert net_status_line(down) == (
        "on the Wi-Fi home; cannot reach the broker 127.0.0.1:34629; trying again; "
        "alerts sent up to log record 12"
    )
    refused = {**down, "mqtt": "refused: bad user name or password", "tls": True}
    assert "the broker 127.0.0.1:34629 with TLS refused the login (bad user name or password)" in (
        net_status_line(refused)
    )


def test_password_stdin_reads_the_first_line_and_refuses_nothing(monkeypatch):
    import io

    from pillctl.commands.network import read_password
    from pillctl.errors import PillctlError

    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret pass\r\nnext line\n"))
    assert read_password("Wi-Fi password", True) == "s3cret pass"
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert read_password("Wi-Fi password", True) == ""  # an open network, said so
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(PillctlError, match="standard input is empty; give the Wi-Fi password"):
        read_password("Wi-Fi password", True)
