"""One simulated board driven in-process: the sim runner without its socket, a serial
connection, and the flash folder reset to a known state at the start of every cycle."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from dispenser.core import logrec
from dispenser.logstore import LogStore
from dispenser.schedstore import SCHEDULE_PATH
from pillctl.device import Device
from pillctl.errors import PillctlError
from pillctl.sim.control import handle_request
from pillctl.sim.firmware_image import install_source
from pillctl.sim.runner import SimOptions, SimRunner

LOG_BUDGET = 8192  # four 2 KB segments: the campaign rotates often
MAINTENANCE_S = 1  # the window after Ctrl-C; a Pico's is 300 s
HELLO_BOUND_S = 20.0  # a board that does not answer hello within this is dead
RUNNER_THREADS = ("sim-relay", "sim-trace", "sim-supervisor")  # one runner per worker
# Filler from days before the campaign's: real records that fill the log's older segments.
FILLER_T = 1_790_000_000  # 2026-09-21: ends weeks before the first campaign day


class Unsupported(Exception):
    """The sim on this branch lacks a control request an injection needs."""


class Rig:
    def __init__(self, workdir: Path, schedule: bytes) -> None:
        # The board inherits the environment: set the sim's hardware before it boots.
        os.environ["PILLCTL_SIM_LOG_BUDGET"] = str(LOG_BUDGET)
        os.environ["PILLCTL_SIM_MAINTENANCE_S"] = str(MAINTENANCE_S)
        self.fs = workdir / "fs"
        self.schedule = schedule
        install_source(self.fs, schedule=schedule)
        self.runner = SimRunner(SimOptions(fs=self.fs, clock=None, speed=0.0))
        self.device: Device | None = None

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self.runner.start()
        self.runner.power_off()  # every cycle starts from a powered-off board

    def stop(self) -> None:
        self.disconnect()
        self.runner.stop()

    def fresh_flash(self, wall: float, free: int) -> None:
        """Powered off: the old schedule, a log of filler whose active segment has `free`
        bytes left, and the clock (battery-backed) paused at `wall`."""
        self.runner.power_off()
        for name in ("log", SCHEDULE_PATH, SCHEDULE_PATH + ".tmp", "confirmed.txt"):
            path = self.fs / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        (self.fs / SCHEDULE_PATH).write_bytes(self.schedule)
        store = LogStore(str(self.fs / "log"), budget=LOG_BUDGET)
        filler = (logrec.id_key("filler"), 2 | 2 << 4, 1, 250)
        size = logrec.OVERHEAD + logrec.payload_size(logrec.DISPENSE, filler)
        t = FILLER_T
        # Two full segments, then the active one up to `free` bytes short of full.
        while len(store._numbers) < 3 or store._active_size + size <= store.segment_size - free:
            t += 3600
            store.append(t, logrec.DISPENSE, filler)
        self.runner.clock.update(wall, 0.0)
        self.runner.clock.speed = 0.0

    def power_on(self) -> None:
        self.runner.power_on()

    def cut(self) -> None:
        self.runner.power_off()

    # --- serial ------------------------------------------------------------------------
    def connect(self) -> Device:
        if self.device is None:
            self.device = Device(self.runner.port, timeout=2.0)
        return self.device

    def disconnect(self) -> None:
        if self.device is not None:
            self.device.close()
            self.device = None

    def silent(self, what: str) -> str:
        """Why the board did not answer `what`, with the runner's threads that died: their
        tracebacks go to the worker's stderr.log, which goes with the campaign's temp folder.
        """
        alive = {t.name for t in threading.enumerate()}
        dead = [name for name in RUNNER_THREADS if name not in alive]
        return f"no hello {what}" + (f" (sim thread died: {', '.join(dead)})" if dead else "")

    def wait_hello(self, bound: float = HELLO_BOUND_S) -> float | None:
        """Seconds until the board answered hello, or None if it did not within `bound`."""
        started = time.monotonic()
        device = self.connect()
        while time.monotonic() - started < bound:
            try:
                device.request("hello", timeout=min(1.0, bound))
                return time.monotonic() - started
            except PillctlError:
                continue
        return None

    # --- the sim's control channel, in-process ------------------------------------------
    def control(self, **request: Any) -> dict[str, Any]:
        try:
            return handle_request(self.runner, request)
        except Exception as exc:
            if "unknown control request" in str(exc) or isinstance(exc, KeyError):
                raise Unsupported(f"sim control {request}: {exc}") from exc
            raise

    def step_to(self, wall: float) -> None:
        if not self.runner.step_to(wall, 30):
            raise PillctlError(f"the board did not reach {wall} within 30 s")

    def press(self, ms: int = 60) -> int:
        """Hold the button for `ms`, timed by the board (its own sleeps between the edges):
        with a host sleep between `btn 1` and `btn 0`, a loaded board could read both at once
        and debounce the press away. Returns once the board played it (or reset, or after
        HELLO_BOUND_S); what the press did is for the caller to check."""
        since = self.runner.trace.next_seq
        self.runner.button_edges([(0, ms), (1, 0)], HELLO_BOUND_S + ms / 1000)
        return since

    # --- what the board did ------------------------------------------------------------
    def servo_moves(self, since: int) -> list[tuple[int, float | None]]:
        """(hopper, simulated time) of every actuation that started since `since`."""
        moves, pulse = [], {}
        for event in self.runner.trace.since(since, 1_000_000):
            if event.kind == "out" and event.name.startswith("servo."):
                if pulse.get(event.name, "0") == "0" and event.value != "0":
                    moves.append((int(event.name[6:]), event.wall))
                pulse[event.name] = event.value
        return moves

    def wait_servos_idle(self, since: int, hoppers: list[int], timeout: float = 20) -> bool:
        """Wait until each of `hoppers` moved and was released again after `since`."""
        for hopper in hoppers:
            name = f"servo.{hopper}"
            moved = self.runner.trace.wait_for(
                lambda e, n=name: e.name == n and e.value != "0", since, timeout
            )
            if moved is None:
                return False
            released = self.runner.trace.wait_for(
                lambda e, n=name: e.name == n and e.value == "0", moved.seq, timeout
            )
            if released is None:
                return False
            since = released.seq
        return True

    def log_path(self) -> Path:
        return self.fs / "log"
