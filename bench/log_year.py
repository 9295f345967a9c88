"""Log figures with a quarter, half and full year of the default schedule's log on the
simulated board (issue 8 item 8): each must stay flat as the log grows.

- log_pull_<size>_s: `pillctl logs` pulling the whole log into an empty local store.
- boot_<size>_log_ms: power-on (the sim process starting) to the first `hello` reply; boot
  replays the log from its newest checkpoint. boot_empty_log_ms is the same with no log.
- log_read_<size>_ms / log_read_<size>_max_ms: median and slowest `log.read` round trip
  (2 KB replies) over a pull of the whole log: the slowest is at the end of the log, where
  a read that scanned from the first segment cost most.

The log is written by bench/_mp_sim_driver.py (the engine and the log store in the
MicroPython unix port: presses at every meal, refills after low-stock warnings), then the
board boots with it on its flash folder and bone-health installed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from base64 import b64decode
from functools import cache
from pathlib import Path

from bench.engine_figures import DRIVER, SCHEDULE, _compiled_firmware
from dispenser import logrec
from pillctl.device import open_device
from pillctl.micropython import micropython_command
from pillctl.sim.firmware_image import ROOT, install_source
from pillctl.sim.process import SimProcess
from pillctl.transfer import LOG_CHUNK

SIZES = {"empty": 0, "quarter_year": 91, "half_year": 182, "year": 365}
BUDGET = 65536  # the device's default: a year of bone-health (about 48 KB) fits


def _write_log(fs: Path, days: int) -> None:
    result = subprocess.run(
        [*micropython_command(), str(DRIVER), str(SCHEDULE), str(fs / "log"), str(days),
         str(BUDGET)],
        capture_output=True,
        text=True,
        env={"MICROPYPATH": f".frozen:{_compiled_firmware()}"},
        timeout=600,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip()[-500:])


@cache
def _measure(size: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        board_dir = Path(tmp) / "board"
        fs = board_dir / "fs"
        install_source(fs, schedule=SCHEDULE.read_bytes())
        if SIZES[size]:
            _write_log(fs, SIZES[size])
        started = time.perf_counter()
        with SimProcess(board_dir) as board:
            with open_device(board.port) as device:
                boot_ms = (time.perf_counter() - started) * 1000
                requests = []
                since, more = 0, SIZES[size] > 0
                while more:
                    sent = time.perf_counter()
                    reply = device.request("log.read", {"since": since, "max": LOG_CHUNK})
                    requests.append((time.perf_counter() - sent) * 1000)
                    since, more = reply["last"], reply["more"]
                    if not list(logrec.scan(b64decode(reply["b64"]))):
                        raise RuntimeError("an empty log.read reply before the end")
            env = dict(os.environ, PYTHONPATH=str(ROOT / "host"), PILLCTL_DATA_DIR=tmp + "/data")
            sent = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "pillctl", "logs", "--port", board.port],
                check=True,
                capture_output=True,
                env=env,
                timeout=600,
            )
            pull_s = time.perf_counter() - sent
    figures = {"boot_ms": boot_ms, "pull_s": pull_s}
    if requests:
        figures["read_ms"] = statistics.median(requests)
        figures["read_max_ms"] = max(requests)
    return figures


def _figure(size: str, key: str, name: str, unit: str, digits: int):
    def figure():
        return name, round(_measure(size)[key], digits), unit

    figure.__name__ = name
    return figure


FIGURES = [_figure("empty", "boot_ms", "boot_empty_log_ms", "ms", 0)]
for _size in ("quarter_year", "half_year", "year"):
    FIGURES += [
        _figure(_size, "pull_s", f"log_pull_{_size}_s", "s", 2),
        _figure(_size, "boot_ms", f"boot_{_size}_log_ms", "ms", 0),
        _figure(_size, "read_ms", f"log_read_{_size}_ms", "ms", 1),
        _figure(_size, "read_max_ms", f"log_read_{_size}_max_ms", "ms", 1),
    ]
