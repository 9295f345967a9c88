"""Simulated board: the real firmware on the MicroPython unix port, under `pillctl sim`.

The sim runner (host/pillctl/sim) starts `micropython -i main.py` with this file deployed as
board.py, the device's serial port on a pseudo-terminal, and two FIFOs named in the
environment:

- PILLCTL_SIM_IN  (runner -> board): `btn 1|0`, `edges L MS ...`, `clock set|speed|step ...`,
  `jam HOPPER 1|0`, `ds3231 PRESENT OFFSET LOST`, `fault task NAME`, `fault flash ERRNO N`,
  `cut write|rename PATH F`
- PILLCTL_SIM_OUT (board -> runner): the trace of every output change, watchdog feeds and
  clock reports, one line each (see docs/sim.md)

and PILLCTL_SIM_SCRATCH, the file that holds the watchdog scratch registers.

Every fake here implements exactly the contract its driver documents, and records each
output change, with real ticks and simulated wall time, into the trace. The only hardware
reached is the sim's `machine` shim (host/pillctl/sim/machine_shim), for `reset()`; its
`simflash` module injects flash faults and power cuts.
"""

import asyncio
import os
import struct
import sys

from dispenser.clock import MAX_NAP_MS, Clock
from dispenser.compat import ticks_diff, ticks_ms
from dispenser.core import timekeep
from dispenser.core.localtime import MIN_VALID_TIME

NAME = "sim"

# Same logical wiring as the Pico boards; pulse widths in microseconds per hopper.
SERVO_CALIBRATION = ((600, 2400), (600, 2400), (600, 2400))
DROP_DELAY_MS = 120  # a pill takes this long from the hopper to the beam

# No wiring: outputs appear in the trace as led.status, led.0..led.2 (0/1), servo.0..servo.2
# (pulse width in us, 0 = PWM off) and buzzer (FREQ:DUTY_U16, 0:0 = silent). Inputs come from
# the control channel: button, clock, drop-sensor jams.


class Trace:
    """Writes trace lines to the runner. One line per change; the runner timestamps too."""

    def __init__(self, path):
        self._out = open(path, "w") if path else None
        self.clock = None  # type: SimClock | None

    def emit(self, kind, name, value):
        if self._out is None:
            return
        now = self.clock.wall() if self.clock is not None else None
        wall = "-" if now is None else "%.3f" % now
        # No flush(): unix-port files write straight through, and fsync on a FIFO fails.
        self._out.write("%s %d %s %s %s\n" % (kind, ticks_ms(), wall, name, value))


class TracedPin:
    """Output pin. Contract: .value([v])."""

    def __init__(self, name, trace, initial=0):
        self._name = name
        self._trace = trace
        self._value = initial

    def value(self, v=None):
        if v is None:
            return self._value
        v = 1 if v else 0
        if v != self._value:
            self._value = v
            self._trace.emit("out", self._name, v)
        return None


class InputPin:
    """Input pin driven by the runner. Contract: .value()."""

    def __init__(self, initial):
        self._value = initial

    def value(self, v=None):
        return self._value

    def drive(self, v):
        self._value = v


class TracedPWM:
    """PWM output. Contract: .freq([hz]), .duty_u16([v]), .duty_ns([ns]), .deinit()."""

    def __init__(self, name, trace, as_pulse, on_pulse=None):
        self._name = name
        self._trace = trace
        self._as_pulse = as_pulse  # servos trace pulse width, the buzzer traces freq:duty
        self._on_pulse = on_pulse
        self._freq = 50
        self._duty = 0
        self._shown = None

    def freq(self, hz=None):
        if hz is None:
            return self._freq
        self._freq = hz
        self._show()
        return None

    def duty_u16(self, v=None):
        if v is None:
            return self._duty
        self._duty = v
        self._show()
        return None

    def duty_ns(self, ns=None):
        period_ns = 1_000_000_000 // self._freq
        if ns is None:
            return self._duty * period_ns // 65535
        self._duty = ns * 65535 // period_ns
        self._show()
        return None

    def deinit(self):
        self._duty = 0
        self._show()

    def _show(self):
        if self._as_pulse:
            value = (self._duty * 1_000_000 // self._freq + 32767) // 65535 if self._duty else 0
        else:
            value = "%d:%d" % (self._freq if self._duty else 0, self._duty)
        if value != self._shown:
            previous = self._shown
            self._shown = value
            self._trace.emit("out", self._name, value)
            if self._on_pulse is not None and not previous and value:
                self._on_pulse()


class EdgeFlag:
    """ThreadSafeFlag's contract (`set()`, `wait()` that clears) on a plain asyncio.Event.

    The sim's "interrupts" come from an asyncio task, so no thread safety is needed; and on
    the unix port a ThreadSafeFlag is not a file descriptor, so the event loop would have to
    poll it every millisecond instead of sleeping.
    """

    def __init__(self):
        self._event = asyncio.Event()

    def set(self):
        self._event.set()

    async def wait(self):
        await self._event.wait()
        self._event.clear()


class SimClock(Clock):
    """Simulated wall clock: runs at a speed factor, can be set, paused, or stepped.

    Stepping to T is a discrete-event fast-forward: every `sleep_until(t)` with t <= T
    returns at once with the clock moved to t, so a simulated month takes seconds; at T the
    clock pauses and reports `step T` to the runner.
    """

    def __init__(self, trace, spec):
        super().__init__()
        self._trace = trace
        self._base = None
        self._base_ticks = ticks_ms()
        self._speed = 1.0
        self._target = None
        parts = spec.split()
        if parts and parts[0] != "unknown":
            self._base = float(parts[0])
            self._speed = float(parts[1]) if len(parts) > 1 else 1.0

    def wall(self):
        if self._base is None:
            return None
        return self._base + ticks_diff(ticks_ms(), self._base_ticks) * self._speed / 1000

    def _read(self):
        # As RtcClock: a clock before MIN_VALID_TIME (a Pico's RTC after a hard reset
        # restarts at 2021-01-01) was never set.
        wall = self.wall()
        return None if wall is None or wall < MIN_VALID_TIME else int(wall)

    def _write(self, epoch_s):
        self._rebase(epoch_s)

    def counter(self):
        """The raw seconds even before MIN_VALID_TIME, as a Pico's RTC counts them."""
        wall = self.wall()
        return None if wall is None else int(wall)

    def _rebase(self, wall, speed=None):
        self._base = wall
        self._base_ticks = ticks_ms()
        if speed is not None:
            self._speed = speed

    def ms_until(self, epoch_s):
        wall = self.wall()
        if wall is None or self._speed <= 0:
            return MAX_NAP_MS
        # Whole milliseconds, as Clock's contract says: asyncio's sleep_ms takes no float.
        # Rounded up, so a nap never ends just before the second it waits for.
        ms = (epoch_s - wall) * 1000 / self._speed
        whole = int(ms)
        return whole + 1 if whole < ms else whole

    def control(self, words):
        verb = words[0]
        if verb == "set":
            self._rebase(float(words[1]))
        elif verb == "speed":
            self._rebase(self.wall(), float(words[1]))
        elif verb == "step":
            target = float(words[1])
            wall = self.wall()
            if wall is None or wall < MIN_VALID_TIME or target <= wall:
                self._rebase(target, 0.0)
                self._report("step")
            else:
                self._rebase(wall, 0.0)
                self._target = target
        self.changed()
        self._report("clock")

    async def sleep_until(self, epoch_s):
        target = self._target
        if target is not None:
            if epoch_s <= target:
                if epoch_s > self.wall():
                    self._rebase(epoch_s)
                await asyncio.sleep_ms(0)
                return
            self._rebase(target)
            self._target = None
            self._report("step")
        await super().sleep_until(epoch_s)

    def _report(self, kind):
        wall = self.wall()
        self._trace.emit(kind, "speed", "%s %s" % (self._speed, "-" if wall is None else wall))


class SimDS3231:
    """The DS3231 as the self-test reads it (dispenser.drivers.ds3231's read_time): the
    simulated time plus an offset, None once it lost its time, OSError when it is not on
    the bus. The control channel's `ds3231` request sets all three; `present` is the
    runner's `--no-rtc` too (absent, a hard reset restarts the clock at 2021), while the
    offset and a lost time change only what the self-test reads."""

    def __init__(self, clock, spec):
        self._clock = clock
        self.control((spec or "1 0 0").split())

    def control(self, words):
        self.present = words[0] == "1"
        self.offset_s = int(words[1])
        self.lost = words[2] == "1"

    def read_time(self):
        if not self.present:
            raise OSError(19)  # ENODEV: nothing answers at 0x68
        t = self._clock.counter()
        return None if self.lost or t is None else t + self.offset_s


class SimWatchdog:
    """Like the RP2040's: cannot be stopped. The runner resets the board when feeds stop."""

    def __init__(self, trace, timeout_ms):
        self._trace = trace
        trace.emit("wdt", "start", timeout_ms)

    def feed(self):
        self._trace.emit("wdt", "feed", 1)


class SimScratch:
    """The watchdog scratch registers: 4 words in a 16-byte file the runner keeps across
    every reset and deletes at a power cut. Contract: read(i) -> int, write(i, value)."""

    def __init__(self, path):
        self._path = path
        self._words = [0, 0, 0, 0]

    def read(self, i):
        try:
            with open(self._path, "rb") as f:
                data = f.read()
        except OSError:  # no file: the power was cut, the registers read 0
            return 0
        return struct.unpack("<4I", data)[i] if len(data) == 16 else 0

    def write(self, i, value):
        words = self._words
        for j in range(4):
            words[j] = self.read(j)
        words[i] = value & 0xFFFFFFFF
        # A Pico's register write is atomic: a reset (the runner's kill) in the middle of
        # this one must leave the old words or the new, never a truncated file.
        part = self._path + ".part"
        with open(part, "wb") as f:
            f.write(struct.pack("<4I", *words))
        os.rename(part, self._path)


class SimBoard:
    name = NAME

    def __init__(self):
        env = os.getenv
        self.device_id = env("PILLCTL_SIM_ID") or "51a0000000000000"
        self.reset_cause = env("PILLCTL_SIM_RESET") or "power"
        # After Ctrl-C: as on the Pico, unless a test shortens it.
        self.maintenance_s = int(env("PILLCTL_SIM_MAINTENANCE_S") or 300)
        # The Pico's log budget, unless the bench asks for a bigger log.
        self.log_budget = int(env("PILLCTL_SIM_LOG_BUDGET") or 65536)
        self._events_path = env("PILLCTL_SIM_IN")
        self.trace = Trace(env("PILLCTL_SIM_OUT"))
        self.clock = SimClock(self.trace, env("PILLCTL_SIM_CLOCK") or "unknown")
        self.trace.clock = self.clock
        self.ds3231 = SimDS3231(self.clock, env("PILLCTL_SIM_DS3231"))
        self.serial_in = sys.stdin.buffer
        self.serial_out = sys.stdout
        trace = self.trace
        self.status_led = TracedPin("led.status", trace)
        self.compartment_leds = [TracedPin("led.%d" % i, trace) for i in range(3)]
        self.servo_pwms = [
            TracedPWM("servo.%d" % i, trace, True, self._pill_falls(i)) for i in range(3)
        ]
        self.servo_calibration = SERVO_CALIBRATION
        self.buzzer_pwm = TracedPWM("buzzer", trace, False)
        # pull-up: 1 = released; 0 when the control channel powered on with it held
        self.button_pin = InputPin(0 if env("PILLCTL_SIM_BUTTON") == "0" else 1)
        self.button_edge = EdgeFlag()
        has_drop = env("PILLCTL_SIM_DROP") != "0"
        self.drop_pin = InputPin(1) if has_drop else None  # 0 = beam broken
        self._jammed = [False, False, False]
        scratch = env("PILLCTL_SIM_SCRATCH")
        self.scratch = SimScratch(scratch) if scratch else None
        self._faults = []  # task names armed to fail at their next fault_point

    def start_watchdog(self, timeout_ms):
        return SimWatchdog(self.trace, timeout_ms)

    def feed_for(self, watchdog, seconds):
        """Maintenance: a thread keeps feeding (the REPL runs no Python of ours) until the
        deadline, like the Pico's hardware timer does."""
        import _thread
        import time

        def feeder():
            deadline = time.time() + seconds
            while time.time() < deadline:
                watchdog.feed()
                timekeep.save(self.scratch, self.clock.now())
                time.sleep(1)
            # No more feeds or saves from here: the watchdog resets the board in 8 s. A
            # test that spoils the saved time waits for this, or a last save could undo it.
            self.trace.emit("sim", "maintenance", "unfed")

        _thread.start_new_thread(feeder, ())

    def background_tasks(self):
        path = self._events_path
        return [self._runner_events(path)] if path else []

    def reset(self):
        import machine  # the sim's shim: the runner boots the board again, cause "reset"

        machine.reset()

    def fault_point(self, name):
        """A supervised task checks in; fails once if the control channel armed `name`."""
        if name in self._faults:
            self._faults.remove(name)
            raise RuntimeError("injected fault: " + name)

    def _pill_falls(self, hopper):
        # A servo leaving the released state starts a move; unless that hopper is jammed,
        # a pill breaks the beam shortly after.
        def on_pulse():
            if self.drop_pin is not None and not self._jammed[hopper]:
                asyncio.create_task(self._beam_break())

        return on_pulse

    async def _beam_break(self):
        # The sensor is polled during a dispense, so the pin alone carries the pill.
        pin = self.drop_pin
        if pin is None:
            return
        await asyncio.sleep_ms(DROP_DELAY_MS)
        pin.drive(0)
        await asyncio.sleep_ms(15)
        pin.drive(1)

    def _press_button(self, pressed):
        self._drive_button(0 if pressed else 1)

    def _drive_button(self, value):
        if self.button_pin.value() != value:
            self.button_pin.drive(value)
            self.button_edge.set()  # what the Pico's pin interrupt does

    async def _play_edges(self, words):
        # LEVEL MS pairs, timed by the board's own sleeps so that chatter of a few
        # milliseconds keeps its shape; `sim edges done` tells the runner it is over.
        for i in range(0, len(words) - 1, 2):
            self._drive_button(int(words[i]))
            await asyncio.sleep_ms(int(words[i + 1]))
        self.trace.emit("sim", "edges", "done")

    async def _runner_events(self, path):
        stream = open(path, "rb")
        reader = asyncio.StreamReader(stream)
        while True:
            words = (await reader.readline()).decode().split()
            if not words:
                continue
            if words[0] == "btn":
                self._press_button(words[1] == "1")
            elif words[0] == "clock":
                self.clock.control(words[1:])
            elif words[0] == "jam":
                self._jammed[int(words[1])] = words[2] == "1"
            elif words[0] == "ds3231":
                self.ds3231.control(words[1:])
                self.trace.emit("sim", "ds3231", " ".join(words[1:]))  # the runner waits
            elif words[0] == "edges":
                asyncio.create_task(self._play_edges(words[1:]))
            elif words[0] == "fault" and words[1] == "task":
                self._faults.append(words[2])
            elif words[0] in ("fault", "cut"):
                # The flash model is loaded only now: a Pico's heap holds nothing like it,
                # so until a test arms it the sim's heap figures are the firmware's own.
                import simflash  # pyright: ignore[reportMissingImports]  (on the sim's path)

                simflash.install()
                simflash.arm(words)
            else:
                self.runner_event(words)

    def runner_event(self, words):
        """A control line this board does not know; boards that extend the sim take theirs."""


def build():
    return SimBoard()
