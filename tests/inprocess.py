"""In-process rig for the app's layers: App, Controller, Commands and Button under CPython
asyncio, on fake hardware that implements exactly the drivers' contracts, in virtual time.

The event loop's clock is virtual: whenever every task waits, time jumps to the next timer.
A jam's three 1.5 s drop timeouts or a 10 s confirmation window cost no real time, and no
wait is racy. The board's wall clock and `ticks_ms()` follow the same virtual time.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import selectors
import sys
import traceback
from base64 import b64encode
from collections.abc import Awaitable, Callable
from pathlib import Path

from dispenser import cpython_shim
from dispenser.clock import Clock
from dispenser.logstore import LogStore
from dispenser.schedstore import SCHEDULE_PATH
from pillctl.logfields import as_dict, named_event

VIRTUAL_LIMIT_S = 30 * 86400  # a scenario still waiting after this much virtual time hangs
START_TICKS_S = 1000.0


class _InstantSelector(selectors.SelectSelector):
    """Never blocks: with nothing ready, the loop's virtual time jumps over the timeout."""

    loop: VirtualLoop

    def select(self, timeout=None):
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("deadlock: every task waits and no timer is set")
        self.loop.advance(timeout)
        return []


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.now = START_TICKS_S
        selector = _InstantSelector()
        selector.loop = self
        super().__init__(selector)

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        if self.now - START_TICKS_S > VIRTUAL_LIMIT_S:
            raise RuntimeError("the scenario waited more than 30 virtual days")


class _VirtualTime:
    """Stands in for the `time` module inside dispenser.cpython_shim (ticks_ms)."""

    def __init__(self, loop: VirtualLoop) -> None:
        self.loop = loop

    def monotonic(self) -> float:
        return self.loop.now


class FakeClock(Clock):
    """The board's wall clock: runs with the loop's virtual time; unknown while None."""

    def __init__(self, loop: VirtualLoop, wall: int | None) -> None:
        super().__init__()
        self.loop = loop
        self._write(wall)

    def _read(self):
        if self._base is None:
            return None
        return int(self._base + self.loop.now - self._at)

    def _write(self, epoch_s):
        self._base = epoch_s
        self._at = self.loop.now

    def jump(self, epoch_s: int) -> None:
        """Move the wall clock (as the sim's clock step does) and wake the sleepers."""
        self.set(epoch_s)


class OutPin:
    """Output pin. Contract: value([v]). Records (virtual time, value) on each change."""

    def __init__(self, loop: VirtualLoop) -> None:
        self.loop = loop
        self.changes: list[tuple[float, int]] = []  # the pin's level is the last one (0)

    def value(self, v=None):
        level = self.changes[-1][1] if self.changes else 0
        if v is None:
            return level
        if (1 if v else 0) != level:
            self.changes.append((self.loop.now, 1 if v else 0))
        return None


class InPin:
    """Input pin. Contract: value()."""

    def __init__(self, level: int = 1) -> None:
        self.level = level

    def value(self, v=None):
        return self.level


class ServoPwm:
    """PWM for a servo. Contract: freq(hz), duty_ns(ns). Counts actuations (leaving the
    released state) and lets a pill break the drop beam shortly after, unless jammed."""

    def __init__(self, board: FakeBoard, hopper: int) -> None:
        self.board = board
        self.hopper = hopper
        self.ns = 0
        self.actuations = 0

    def freq(self, hz=None):
        return 50 if hz is None else None

    def duty_ns(self, ns=None):
        if ns is None:
            return self.ns
        if not self.ns and ns:
            self.actuations += 1
            self.board.pill_falls(self.hopper)
        self.ns = ns
        return None


class BuzzerPwm:
    """Contract: freq(hz), duty_u16(v). Records every sound that starts."""

    def __init__(self, loop: VirtualLoop) -> None:
        self.loop = loop
        self.hz = 0
        self.duty = 0
        self.sounds: list[tuple[float, int]] = []

    def freq(self, hz=None):
        if hz is None:
            return self.hz
        self.hz = hz
        return None

    def duty_u16(self, v=None):
        if v is None:
            return self.duty
        if v and not self.duty:
            self.sounds.append((self.loop.now, self.hz))
        self.duty = v
        return None


class Edge(asyncio.Event):
    """ThreadSafeFlag's contract: set(), and a wait() that clears the flag."""

    async def wait(self):
        await super().wait()
        self.clear()
        return True


class FakeWatchdog:
    def __init__(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms
        self.feeds = 0

    def feed(self):
        self.feeds += 1


class FakeBoard:
    """The board object the app gets from boards/*.py build(), with fakes behind it."""

    name = "fake"
    device_id = "fa4e000000000001"
    maintenance_s = 300
    log_budget = 65536
    servo_calibration = ((600, 2400), (600, 2400), (600, 2400))

    def __init__(self, loop: VirtualLoop, wall: int | None, drop_sensor: bool = True) -> None:
        self.loop = loop
        self.reset_cause = "power"
        self.clock = FakeClock(loop, wall)
        self.status_led = OutPin(loop)
        self.compartment_leds = [OutPin(loop) for _ in range(3)]
        self.servo_pwms = [ServoPwm(self, h) for h in range(3)]
        self.buzzer_pwm = BuzzerPwm(loop)
        self.button_pin = InPin(1)
        self.button_edge = Edge()
        self.drop_pin = InPin(1) if drop_sensor else None
        self.jammed: set[int] = set()
        self.serial_in = None
        self.serial_out = None
        self.watchdog: FakeWatchdog | None = None
        self.fed_for: float | None = None

    def start_watchdog(self, timeout_ms):
        self.watchdog = FakeWatchdog(timeout_ms)
        return self.watchdog

    def feed_for(self, watchdog, seconds):
        self.fed_for = seconds

    def background_tasks(self):
        return []

    # The rest of the board contract (common interfaces): no scratch registers, a reset
    # that is only recorded, and fault points that never fire.
    scratch = None
    resets = 0

    def reset(self):
        self.resets += 1

    def fault_point(self, name):
        return None

    # --- the world around the board -----------------------------------------------------
    def pill_falls(self, hopper: int) -> None:
        pin = self.drop_pin
        if pin is None or hopper in self.jammed:
            return

        def fall(level: int) -> None:
            pin.level = level

        self.loop.call_later(0.120, fall, 0)
        self.loop.call_later(0.135, fall, 1)

    def button(self, level: int) -> None:
        """Drive the button pin (0 = pressed), raising an edge as the pin interrupt does."""
        if self.button_pin.level != level:
            self.button_pin.level = level
            self.button_edge.set()

    async def press(self, ms: int = 150) -> None:
        self.button(0)
        await asyncio.sleep(ms / 1000)
        self.button(1)

    def actuations(self) -> list[int]:
        return [pwm.actuations for pwm in self.servo_pwms]

    def servos_released(self) -> bool:
        return all(pwm.ns == 0 for pwm in self.servo_pwms)


class FakeLink:
    """LineLink's contract for the app: readline() and send(id, verb, payload)."""

    def __init__(self, instream=None, outstream=None) -> None:
        self.lines: asyncio.Queue[bytes] = asyncio.Queue()
        self.sent: list[tuple[int, str, dict]] = []

    async def readline(self, wait_ms=None):
        """The next line; with `wait_ms` (a supervised serial loop's slice), False when that
        passed without one."""
        if wait_ms is None:
            return await self.lines.get()
        try:
            return await asyncio.wait_for(self.lines.get(), wait_ms / 1000)
        except TimeoutError:
            return False

    def send(self, frame_id, verb, payload):
        self.sent.append((frame_id, verb, payload))

    def events(self, kind: str | None = None) -> list[dict]:
        """The events sent, as pillctl reads them (records named), of `kind` if given."""
        events = [named_event(p) for i, v, p in self.sent if v == "evt"]
        return [e for e in events if kind is None or e["kind"] == kind]


async def until(predicate: Callable[[], object], timeout_s: float = 120, step_s: float = 0.01):
    """Wait in virtual time until `predicate()` is true; fail after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout_s} virtual seconds: {predicate}")
        await asyncio.sleep(step_s)


def install_micropython_names(monkeypatch, loop: VirtualLoop) -> None:
    """The few MicroPython names the app uses that CPython lacks, and virtual ticks."""
    monkeypatch.setattr(asyncio, "sleep_ms", lambda ms: asyncio.sleep(ms / 1000), raising=False)
    monkeypatch.setattr(
        asyncio, "wait_for_ms", lambda aw, ms: asyncio.wait_for(aw, ms / 1000), raising=False
    )
    monkeypatch.setattr(sys, "print_exception", traceback.print_exception, raising=False)
    monkeypatch.setattr(gc, "mem_free", lambda: 100_000, raising=False)
    monkeypatch.setattr(gc, "mem_alloc", lambda: 77_000, raising=False)
    monkeypatch.setattr(cpython_shim, "time", _VirtualTime(loop))


def run(loop: VirtualLoop, scenario: Awaitable) -> None:
    """Run a scenario to its end, then cancel whatever tasks it left running."""

    async def main():
        try:
            await scenario
        finally:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            while tasks:
                for task in tasks:
                    task.cancel()
                # CPython 3.11's wait_for can swallow a cancel that meets its inner future
                # completing (the app's serial loop then reads on): cancel what is left again.
                tasks = list((await asyncio.wait(tasks, timeout=1))[1])

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def scenario_of(world, body) -> None:
    """Start `world`'s app, then run the coroutine function `body` in its virtual time."""

    async def scenario():
        await world.start()
        await body()

    run(world.loop, scenario())


async def upload(world, data: bytes, sha: str | None = None) -> tuple[str, dict]:
    """A schedule push over the app's serial commands (begin, chunks, commit), as pillctl
    does; the commit's (verb, reply)."""
    sha = sha or hashlib.sha256(data).hexdigest()
    assert await world.request("schedule.put", {"op": "begin", "size": len(data), "sha256": sha})
    for off in range(0, len(data), 512):
        chunk = b64encode(data[off : off + 512]).decode()
        verb, _ = await world.request("schedule.put", {"op": "data", "off": off, "b64": chunk})
        assert verb == "ok"
    return await world.request("schedule.put", {"op": "commit"})


def flash_records(root: Path) -> list[dict]:
    """The log on the (fake) flash, as dicts, oldest first."""
    return [as_dict(r) for r in LogStore(str(root / "log")).records()]


def put_schedule(root: Path, data: bytes) -> None:
    (root / SCHEDULE_PATH).write_bytes(data)


class World:
    """One App on a FakeBoard whose flash is a folder (the test's cwd), in virtual time."""

    def __init__(self, root: Path, loop: VirtualLoop) -> None:
        self.root = root
        self.loop = loop
        self.board: FakeBoard | None = None
        self.app = None
        self.presses_done: list[bool] = []

    def boot_with(self, schedule: bytes, wall: int | None):
        """Install `schedule` on the flash, then boot."""
        put_schedule(self.root, schedule)
        return self.boot(wall)

    def boot(self, wall: int | None, drop_sensor: bool = True, reset_cause: str = "power"):
        """A new App on a new board (the flash kept): as after a power cut."""
        from dispenser.app import App

        self.board = FakeBoard(self.loop, wall, drop_sensor)
        self.board.reset_cause = reset_cause
        self.app = App(self.board)
        self.presses_done = []
        real = self.app.controller.press

        async def press(long):  # counts each press the controller finished handling
            await real(long)
            self.presses_done.append(long)

        self.app.controller.press = press
        return self.app

    async def start(self) -> asyncio.Task:
        assert self.app is not None
        task = asyncio.ensure_future(self.app.main())
        # Boot (the log replayed) and the tasks' first round: the schedule loop's first tick.
        await asyncio.sleep(0.01)
        return task

    async def press(self, ms: int = 150) -> None:
        """Press the button and wait until the controller has handled the press."""
        assert self.board is not None
        n = len(self.presses_done)
        await self.board.press(ms)
        await until(lambda: len(self.presses_done) > n)

    async def step_to(self, wall: int) -> None:
        """Jump the wall clock and let the schedule loop catch up."""
        assert self.board is not None
        self.board.clock.jump(wall)
        await asyncio.sleep(0.05)

    def records(self) -> list[dict]:
        return flash_records(self.root)

    def kinds(self) -> list[str]:
        return [r["kind"] for r in self.records()]

    async def request(self, verb: str, args=None) -> tuple[str, dict]:
        """One protocol request through the app's frame handling: (ok|err, payload)."""
        from dispenser.core import protocol

        assert self.app is not None
        link = self.app.link
        n = len(link.sent)
        await self.app.handle_line(protocol.encode(7, verb, {} if args is None else args).encode())
        replies = [(v, p) for i, v, p in link.sent[n:] if i == 7]
        assert len(replies) == 1, link.sent[n:]
        return replies[0]


def make_world(root: Path, monkeypatch) -> World:
    """A World in `root` (made the cwd: the app's flash paths are relative), with the
    MicroPython names installed and the serial link faked."""
    from dispenser import app as app_module

    monkeypatch.chdir(root)
    loop = VirtualLoop()
    install_micropython_names(monkeypatch, loop)
    monkeypatch.setattr(app_module, "LineLink", FakeLink)
    return World(root, loop)
