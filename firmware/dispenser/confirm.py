"""Overrides need a person at the device (docs/safety-rules.md).

A checked schedule that overrides a safety rule is not installed at once: it waits while the
status LED blinks long-short-short, and is installed only when a press that begins after
the upload is held CONFIRM_HOLD_MS, within the window (60 s). Every press begun meanwhile
belongs to the confirmation (dispenser.arbiter): none is a dose press or a snooze. Without
the hold the waiting schedule is dropped (ERROR 30) and the old one stays; a newer upload
replaces it (ERROR 31). The hold is logged as OVERRIDE_BOUND (this schedule's sha256, this
device's id), which every boot needs before it applies the overrides (dispenser.controller).

Imported only when such a schedule arrives, so the code stays off the heap otherwise.
"""

import asyncio
from binascii import unhexlify

from dispenser.arbiter import CONFIRM
from dispenser.compat import const, ticks_diff, ticks_ms
from dispenser.core import logrec
from dispenser.core.engine import ScheduleError

CONFIRM_WINDOW_S = const(60)  # an override schedule waits this long for the hold
CONFIRM_HOLD_MS = const(2000)  # how long the hold that confirms it must last


class Confirmation:
    """One schedule with overrides (`data`, checked as `schedule`) waiting for its hold."""

    def __init__(self, app, data, schedule, window_s):
        self.app = app
        self.controller = app.controller
        self.data = data
        self.schedule = schedule
        self.window_s = window_s
        self.opened = ticks_ms()
        self.task = None

    def start(self):
        """Hold the schedule pending (logged, shown on the LED) and wait for the hold."""
        controller = self.controller
        controller.await_hold(self.schedule)
        now = controller.clock.now()
        controller.append(now or 0, logrec.OVERRIDE_PENDING, (self.schedule.hash_prefix(),))
        controller.show(now)
        self.task = asyncio.create_task(self._run())

    def replace(self):
        """A newer upload takes its place: logged, and the wait ends."""
        self._drop(logrec.ERR_OVERRIDE_REPLACED)
        if self.task is not None:
            self.task.cancel()

    def status(self):
        """What `status` and the commit reply say about the wait."""
        left = self.window_s - ticks_diff(ticks_ms(), self.opened) // 1000
        return {
            "sha256": self.schedule.sha,
            "rules": self.schedule.overrides,
            "signers": self.schedule.signers,
            "hold_ms": CONFIRM_HOLD_MS,
            "left": max(left, 0),
        }

    async def _run(self):
        try:
            held = await self._hold()
        except asyncio.CancelledError:
            return  # replaced: replace() logged it
        if self.controller.pending is not self.schedule:
            return
        if not held:
            self._drop(logrec.ERR_OVERRIDE_UNCONFIRMED)
            return
        try:
            self._install()
        except (ScheduleError, OSError):
            pass  # install() logged a refusal; a flash write error leaves the old schedule

    async def _hold(self):
        """True once the hold came in time (a hold begun in time may end after it)."""
        return await self.app.confirming_press(self.window_s * 1000, CONFIRM_HOLD_MS, CONFIRM)

    def _drop(self, code):
        controller = self.controller
        if not controller.end_wait(self.schedule):
            return
        now = controller.clock.now()
        controller.append(now or 0, logrec.ERROR, (code, 0))
        controller.show(now)

    def _install(self):
        """The hold came: bind the confirmation to this device and schedule in the log
        (boot applies the overrides only then), install the schedule, log who signed it."""
        controller = self.controller
        controller.end_wait(self.schedule)
        device = logrec.device_field(controller.board.device_id)
        fields = (unhexlify(self.schedule.sha), device)
        try:
            # checks again, writes atomically, then logs the confirmation bound to it
            schedule = controller.install(self.data, fields)
        finally:
            controller.show(controller.clock.now())
        signer = logrec.signer_bytes(schedule.signers)
        controller.append(
            controller.confirmed_at, logrec.OVERRIDE, (schedule.hash_prefix(), signer)
        )
