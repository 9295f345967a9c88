"""Shared pytest set-up: repository paths and a simulated board fixture."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from pillctl.sim.process import SimProcess

ROOT = Path(__file__).resolve().parent.parent


# Tests that take ten seconds and more, longest first (most wait on the board's watchdog,
# its servos or a broker, not on the CPU). `make test` runs pytest over several workers
# (pytest-xdist, `--dist load --maxschedchunk 1`), where each worker holds the test it runs
# and one more: these go first, each followed by one short test, so that they all start at
# once on different workers instead of queuing behind each other at the end of the run.
LONG_TESTS = (
    "test_realtime_e2e.py::",  # two and a half minutes of wall time, by design
    "test_supervision_e2e.py::test_ctrl_c_at_any_moment",
    "test_soak_short.py::",
    "test_demo.py::",
    "test_protocol_fuzz.py::",
    "test_mqtt_e2e.py::test_outages",
    "test_mqtt_e2e.py::test_wifi_out_of_reach",
    "test_mqtt_e2e.py::test_a_broker_that_stops",
    "test_flash.py::test_flash_a_board_left_in_the_repl",
    "test_flash.py::test_flash_a_blank_sim",
    "test_flash.py::test_flash_a_running_sim",
    "test_mqtt_e2e.py::test_refused_login",
    "test_sim_fidelity.py::test_a_cut_mid_install",
    "test_supervision_e2e.py::test_without_a_ds3231",
    "test_mqtt_e2e.py::test_every_event_type",
    "test_sim_board.py::test_ctrl_c_gives",
)


def _long_rank(item: pytest.Item) -> int | None:
    for rank, part in enumerate(LONG_TESTS):
        if part in item.nodeid:
            return rank
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    ranked = [
        (rank, i, item) for i, item in enumerate(items) if (rank := _long_rank(item)) is not None
    ]
    long = [item for _, _, item in sorted(ranked, key=lambda r: r[:2])]
    short = [item for item in items if _long_rank(item) is None]
    ordered: list[pytest.Item] = []
    for item in long:
        ordered.append(item)
        if short:
            ordered.append(short.pop(0))
    items[:] = ordered + short


@pytest.fixture
def sim_board(tmp_path):
    """A simulated board running the source firmware, stopped after the test."""
    with SimProcess(tmp_path / "board") as board:
        yield board


@pytest.fixture
def broker(tmp_path):
    """A real Mosquitto on 127.0.0.1 for the test (tests/mqtthelpers.py's needs_mosquitto
    skips where Debian's mosquitto is missing)."""
    from pillctl.mosquitto import Mosquitto

    with Mosquitto(tmp_path / "broker") as mosquitto:
        yield mosquitto


@pytest.fixture
def world(tmp_path, monkeypatch):
    """An in-process App on a fake board, in virtual time (tests/inprocess.py)."""
    from inprocess import make_world

    return make_world(tmp_path, monkeypatch)


def _pillctl(args: tuple[str, ...], env: dict[str, str] | None) -> tuple[list[str], dict]:
    """The command line and environment of a pillctl run as a user's."""
    return [sys.executable, "-m", "pillctl", *args], dict(
        os.environ, PYTHONPATH=str(ROOT / "host"), **(env or {})
    )


def run_pillctl(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """Run the CLI as a separate process, as a user would (`env` adds variables, `stdin` is
    what the user types)."""
    argv, environ = _pillctl(args, env)
    return subprocess.run(
        argv, capture_output=True, text=True, input=stdin, timeout=timeout, env=environ
    )


def run_pillctl_acting(
    *args: str,
    act: Callable[[str, IO[str] | None], None],
    keep_stdin: bool = False,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    """Run the CLI as a person at a terminal would: each line it prints, on stdout or
    stderr, goes to `act(line, stdin)` as it appears, so the test does what the line asks
    (presses, holds, types into `stdin`, the process's, or None: closed at the start unless
    `keep_stdin`). Whatever act raises is raised here. `timeout` bounds the whole run.
    Returns (exit code, stdout, stderr)."""
    argv, environ = _pillctl(args, env)
    # A session of its own, so that a failed test ends what pillctl started too (mpremote)
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=environ, start_new_session=True,
    )  # fmt: skip
    assert process.stdin and process.stdout and process.stderr
    stdin: IO[str] | None = process.stdin
    if not keep_stdin:
        process.stdin.close()
        stdin = None
    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()

    def read(name: str, stream: IO[str]) -> None:
        try:
            for line in stream:
                lines.put((name, line))
        finally:
            lines.put((name, None))

    for name, stream in (("out", process.stdout), ("err", process.stderr)):
        threading.Thread(target=read, args=(name, stream), daemon=True).start()
    said: dict[str, list[str]] = {"out": [], "err": []}
    deadline = time.monotonic() + timeout
    open_streams = 2
    try:
        while open_streams:
            try:
                name, line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"pillctl {' '.join(args)} ran past {timeout} s; it printed:\n"
                    + "".join(said["out"] + said["err"])
                ) from None
            if line is None:
                open_streams -= 1
                continue
            said[name].append(line)
            act(line, stdin if stdin is not None and not stdin.closed else None)
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return code, "".join(said["out"]), "".join(said["err"])
