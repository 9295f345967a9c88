"""Start `pillctl sim --headless` as a child process: for tests, the demo and the bench."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pillctl.errors import PillctlError
from pillctl.sim.control import SimControl

STARTUP_TIMEOUT_S = 30


class SimProcess:
    """A simulated board in its own process, with its port and control channel."""

    def __init__(self, workdir: Path, *extra_args: str, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.fs = workdir / "fs"
        self.port = str(workdir / "port")
        self.control_path = workdir / "control.sock"
        self._args = extra_args
        self._env = env
        # The sim's own output goes to a file: a pipe nobody reads after start-up would
        # block the sim once it filled (a traceback, say), and the file helps when one fails.
        self.log_path = workdir / "sim.log"
        self.process: subprocess.Popen | None = None
        self.control: SimControl | None = None

    def start(self) -> SimProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        host = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, **(self._env or {}))
        env["PYTHONPATH"] = host + os.pathsep + env.get("PYTHONPATH", "")
        argv = [sys.executable, "-m", "pillctl", "sim", "--headless", "--fs", str(self.fs)]
        argv += ["--link", self.port, "--control", str(self.control_path), *self._args]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            if "ready" in self.log_path.read_text().split("\n"):
                self.control = SimControl(self.control_path)
                if "--blank" not in self._args:
                    # Ready means the firmware runs: its first heartbeat is in the trace.
                    self.control.wait_for("led.status", 0, timeout=STARTUP_TIMEOUT_S)
                return self
            time.sleep(0.05)
        self.stop()
        raise PillctlError("the simulated board did not start:\n" + self.log_path.read_text())

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
