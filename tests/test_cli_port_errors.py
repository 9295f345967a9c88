"""Every command that talks to a dispenser fails in one line, exit 1, in bounded time, on a
port that does not exist, one that another program holds, and one that is no dispenser."""

from __future__ import annotations

import os
import pty
import time

import pytest
import serial
from conftest import ROOT, run_pillctl

COMMANDS = [
    ["status"],
    ["push", str(ROOT / "schedules" / "bone-health.toml")],
    ["time", "sync"],
    ["logs"],
    ["refill", "ca", "10"],
    ["monitor"],
    ["flash", "--board", "sim"],
]
BOUND_S = 40


@pytest.fixture
def silent_pty():
    """A terminal nobody answers on: what a wrong serial device looks like."""
    master, slave = pty.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def assert_one_line_failure(args: list[str], port: str, expect: str) -> None:
    started = time.monotonic()
    # flash keeps its own bounded waits (mpremote, restart); the others take --timeout.
    timeout = [] if args[0] == "flash" else ["--timeout", "1"]
    result = run_pillctl(*args, "--port", port, *timeout, timeout=BOUND_S + 20)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, (args, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pillctl: "), (args, result.stderr)
    assert expect in lines[0], (args, lines[0])
    assert "Traceback" not in result.stderr
    assert elapsed < BOUND_S, (args, elapsed)


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_missing_port(args, tmp_path):
    assert_one_line_failure(args, str(tmp_path / "ttyNOPE"), "ttyNOPE")


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_busy_port(args, sim_board):
    with serial.Serial(sim_board.port, exclusive=True):
        assert_one_line_failure(args, sim_board.port, "")


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_port_that_is_not_a_dispenser(args, silent_pty):
    assert_one_line_failure(args, silent_pty, "")
