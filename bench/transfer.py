"""Protocol transfer figures on the sim board.

- schedule_push_ms: median round trip of `push_schedule` for bone-health (chunks, commit,
  the device's check and atomic install).
- log_pull_speedup_vs_mpremote: a ~100 KB log pulled with log.read, against `mpremote cp`
  of the same log files from the same board in the same run, in wall time. Target: at
  least 2x. On a pty this mostly measures mpremote's waits, not the device's work.
- log_pull_device_cpu_vs_mpremote: the same two transfers by the CPU time the board's
  MicroPython process spent on them (its utime + stime in /proc, each transfer repeated
  so that the clock ticks resolve it): what a Pico's CPU would pay, per byte, for each.
  Target: at least 2x.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from functools import cache
from pathlib import Path

from pillctl.device import open_device
from pillctl.executables import require_tool
from pillctl.schedule import compile_file
from pillctl.sim.firmware_image import ROOT, install_source
from pillctl.sim.process import SimProcess
from pillctl.sim.seed import seed_log
from pillctl.transfer import push_schedule, read_log_batches

LOG_BYTES = 100_000
BUDGET = 131_072
PULLS = 10  # log.read pulls per CPU measurement
COPIES = 3  # mpremote copies per CPU measurement


def _board_with_log(tmp: Path) -> Path:
    """A flash folder holding the firmware and about LOG_BYTES of real log records."""
    fs = tmp / "board" / "fs"
    install_source(fs)
    seed_log(fs, LOG_BYTES, BUDGET)
    return fs


def schedule_push_ms():
    data = compile_file(ROOT / "schedules" / "bone-health.toml")
    samples = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        SimProcess(Path(tmp) / "board") as board,
        open_device(board.port) as device,
    ):
        for _ in range(7):
            started = time.perf_counter()
            push_schedule(device, data)
            samples.append((time.perf_counter() - started) * 1000)
    return "schedule_push_ms", round(statistics.median(samples), 1), "ms"


def _board_cpu_s(board: SimProcess) -> float:
    """CPU seconds (user + system) used so far by the board's MicroPython process, the sim
    runner's child."""
    assert board.process is not None
    pid = board.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one board process under the sim runner, found {children}")
    fields = Path(f"/proc/{children[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@cache
def _pull_against_mpremote() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        fs = _board_with_log(Path(tmp))
        segments = sorted(p.name for p in (fs / "log").iterdir())
        sources = [f":log/{name}" for name in segments]
        out = Path(tmp) / "copied"
        env = {"PILLCTL_SIM_LOG_BUDGET": str(BUDGET)}
        with SimProcess(Path(tmp) / "board", env=env) as board:
            with open_device(board.port) as device:
                started = time.perf_counter()
                pulled = sum(len(batch) for batch in read_log_batches(device, 0))
                protocol_s = time.perf_counter() - started
                cpu = _board_cpu_s(board)
                for _ in range(PULLS):
                    sum(len(batch) for batch in read_log_batches(device, 0))
                protocol_cpu_s = (_board_cpu_s(board) - cpu) / PULLS
            # USB alone no longer reaches the REPL of a running app: open it as a person
            # does, `pillctl maintenance` and a hold of the button (the sim's control).
            from simhelpers import (
                unlock,
            )  # tests/simhelpers.py (make bench puts tests/ on the path)

            unlock(board)
            mpremote_s = []
            cpu = _board_cpu_s(board)
            for _ in range(COPIES):
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                started = time.perf_counter()
                subprocess.run(
                    [require_tool("mpremote"), "connect", board.port, "resume", "cp",
                     *sources, f"{out}/"],
                    check=True,
                    capture_output=True,
                    timeout=300,
                )  # fmt: skip
                mpremote_s.append(time.perf_counter() - started)
            mpremote_cpu_s = (_board_cpu_s(board) - cpu) / COPIES
        copied = sum(p.stat().st_size for p in out.iterdir())
    if pulled == 0 or copied < LOG_BYTES:
        raise RuntimeError(f"pulled {pulled} records, mpremote copied {copied} bytes")
    if protocol_cpu_s <= 0:
        raise RuntimeError("the board used no measurable CPU for a log pull")
    return {
        "speedup": mpremote_s[0] / protocol_s,
        "cpu_ratio": mpremote_cpu_s / protocol_cpu_s,
    }


def log_pull_speedup_vs_mpremote():
    return "log_pull_speedup_vs_mpremote", round(_pull_against_mpremote()["speedup"], 1), "x"


def log_pull_device_cpu_vs_mpremote():
    ratio = _pull_against_mpremote()["cpu_ratio"]
    return "log_pull_device_cpu_vs_mpremote", round(ratio, 1), "x"


FIGURES = [schedule_push_ms, log_pull_speedup_vs_mpremote, log_pull_device_cpu_vs_mpremote]
