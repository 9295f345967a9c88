"""Protocol transfer figures on the sim board.

- schedule_push_ms: median round trip of `push_schedule` for bone-health (chunks, commit,
  the device's check and atomic install).
- log_pull_speedup_vs_mpremote: a ~100 KB log pulled with log.read, against `mpremote cp`
  of the same log files from the same board in the same run. Target: at least 2x.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
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


def log_pull_speedup_vs_mpremote():
    with tempfile.TemporaryDirectory() as tmp:
        fs = _board_with_log(Path(tmp))
        segments = sorted(p.name for p in (fs / "log").iterdir())
        env = {"PILLCTL_SIM_LOG_BUDGET": str(BUDGET)}
        with SimProcess(Path(tmp) / "board", env=env) as board:
            started = time.perf_counter()
            with open_device(board.port) as device:
                pulled = sum(len(batch) for batch in read_log_batches(device, 0))
            protocol_s = time.perf_counter() - started

            out = Path(tmp) / "copied"
            out.mkdir()
            sources = [f":log/{name}" for name in segments]
            started = time.perf_counter()
            subprocess.run(
                [require_tool("mpremote"), "connect", board.port, "resume", "cp", *sources,
                 f"{out}/"],
                check=True,
                capture_output=True,
                timeout=300,
            )  # fmt: skip
            mpremote_s = time.perf_counter() - started
        copied = sum(p.stat().st_size for p in out.iterdir())
    if pulled == 0 or copied < LOG_BYTES:
        raise RuntimeError(f"pulled {pulled} records, mpremote copied {copied} bytes")
    return "log_pull_speedup_vs_mpremote", round(mpremote_s / protocol_s, 1), "x"


FIGURES = [schedule_push_ms, log_pull_speedup_vs_mpremote]
