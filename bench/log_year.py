"""Log figures with a quarter, half and full year of the default schedule's log on the
simulated board (issue 8 item 8): each must stay flat as the log grows.

- log_pull_<size>_s: `pillctl logs` pulling the whole log into an empty local store.
- boot_<size>_log_ms: power-on (the sim's control channel switching the board on) to the
  first `hello` reply, the fastest of 5; boot replays the log from its newest checkpoint.
  boot_empty_log_ms is the same with no log. The firmware runs from its sources, as a sim
  board does, so each boot also compiles them: the same for every size.
- log_read_<size>_ms: a `log.read` round trip (2 KB replies) at the end of the log, where a
  read that scans from the first segment costs most: the mean of the last 5 requests of a
  pull of the whole log, each the fastest of 3 pulls (the machine is shared: the minimum
  is the figure least disturbed by other work). log_read_<size>_first_ms: the same for
  the first 5 requests. Equal figures mean a request's cost does not grow with the log.

The same costs without the serial link, as CPU time in the MicroPython unix port
(bench/_mp_log_cost.py, the firmware compiled by mpy-cross), where the machine's other work
disturbs them less:
- boot_replay_<size>_ms: opening the log and replaying it into the engine;
- log_read_<size>_cpu_ms / log_read_<size>_first_cpu_ms: the log store's read for one
  log.read at the end / start of a sequential pull (mean of 5 requests);
- log_request_<size>_cpu_ms: the whole log.read at the end of a pull: the handler, its
  base64 and the reply frame written to a stream (what the device does per request, but
  the USB or pty write itself);
- status_<size>_cpu_ms: a whole `status` request (its garbage collection included);
each the fastest of 3 runs.

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

from bench.engine_figures import DRIVER, SCHEDULE
from bench.micropython_run import json_line
from dispenser.core import logrec
from pillctl.device import Device, open_device
from pillctl.errors import PillctlError
from pillctl.sim.firmware_image import ROOT, install_source
from pillctl.sim.process import SimProcess
from pillctl.transfer import LOG_CHUNK

SIZES = {"empty": 0, "quarter_year": 91, "half_year": 182, "year": 365}
COST_DRIVER = ROOT / "bench" / "_mp_log_cost.py"
BUDGET = 65536  # the device's default: a year of bone-health (about 48 KB) fits


def _cpu_costs(fs: Path) -> dict[str, float]:
    runs = []
    for _ in range(3):  # the fastest of 3: the least disturbed by the machine's other work
        runs.append(json_line(str(COST_DRIVER), str(SCHEDULE), str(fs / "log")))
    return {
        "replay_ms": min(run["boot_us"] for run in runs) / 1000,
        "read_cpu_ms": min(run["read_last_us"] for run in runs) / 1000,
        "read_first_cpu_ms": min(run["read_first_us"] for run in runs) / 1000,
        "request_cpu_ms": min(run["request_last_us"] for run in runs) / 1000,
        "status_cpu_ms": min(run["status_us"] for run in runs) / 1000,
    }


def _pull_request_ms(device: Device) -> list[float]:
    """The round trip of each log.read of a pull of the whole log, in order."""
    requests = []
    since, more = 0, True
    while more:
        sent = time.perf_counter()
        reply = device.request("log.read", {"since": since, "max": LOG_CHUNK})
        requests.append((time.perf_counter() - sent) * 1000)
        since, more = reply["last"], reply["more"]
        if not list(logrec.scan(b64decode(reply["b64"]))):
            raise RuntimeError("an empty log.read reply before the end")
    return requests


def _boot_ms(board: SimProcess, device: Device) -> float:
    assert board.control is not None
    samples = []
    for _ in range(5):
        board.control.power(False)
        started = time.perf_counter()
        board.control.power(True)
        while True:  # a hello sent before the serial loop runs is answered once it does
            try:
                device.request("hello", timeout=5)
                break
            except PillctlError:
                if time.perf_counter() - started > 60:
                    raise
        samples.append((time.perf_counter() - started) * 1000)
    return min(samples)


@cache
def _measure(size: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        board_dir = Path(tmp) / "board"
        fs = board_dir / "fs"
        install_source(fs, schedule=SCHEDULE.read_bytes())
        figures = {}
        if SIZES[size]:
            json_line(str(DRIVER), str(SCHEDULE), str(fs / "log"), str(SIZES[size]), str(BUDGET))
            figures = _cpu_costs(fs)
        with SimProcess(board_dir) as board:
            with open_device(board.port) as device:
                boot_ms = _boot_ms(board, device)
                pulls = [_pull_request_ms(device) for _ in range(3)] if SIZES[size] else []
                requests = [min(costs) for costs in zip(*pulls, strict=True)]
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
    figures.update(boot_ms=boot_ms, pull_s=pull_s)
    if requests:
        figures["read_ms"] = statistics.mean(requests[-5:])
        figures["read_first_ms"] = statistics.mean(requests[:5])
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
        _figure(_size, "read_first_ms", f"log_read_{_size}_first_ms", "ms", 1),
        _figure(_size, "replay_ms", f"boot_replay_{_size}_ms", "ms", 1),
        _figure(_size, "read_cpu_ms", f"log_read_{_size}_cpu_ms", "ms", 2),
        _figure(_size, "read_first_cpu_ms", f"log_read_{_size}_first_cpu_ms", "ms", 2),
        _figure(_size, "request_cpu_ms", f"log_request_{_size}_cpu_ms", "ms", 2),
        _figure(_size, "status_cpu_ms", f"status_{_size}_cpu_ms", "ms", 2),
    ]
