"""An LED that plays a blink pattern (dispenser.core.patterns) in its own asyncio task.

Contract: `pin.value(v)` with v in (0, 1). Changing the pattern wakes the task at once;
between changes the task only wakes at the pattern's own edges, and a steady pattern (on or
off) leaves it waiting on an Event: no polling.
"""

import asyncio

from dispenser.timing import wait_for_ms


class Led:
    def __init__(self, pin):
        self.pin = pin
        self.pattern = ()
        self._changed = asyncio.Event()
        pin.value(0)

    def show(self, pattern):
        """Switch to `pattern`; a no-op if it is already showing (the cycle keeps going)."""
        if pattern is not self.pattern:
            self.pattern = pattern
            self._changed.set()

    async def run(self, _check_in=None):
        """The LED's task: play the current pattern until it changes, forever. It takes
        the supervisor's check_in (and ignores it), so the bound method is the task."""
        while True:
            self._changed.clear()
            pattern = self.pattern
            if len(pattern) < 2:
                self.pin.value(1 if pattern else 0)
                await self._changed.wait()
                continue
            on = 1
            for ms in pattern:
                if self.pattern is not pattern:
                    break
                self.pin.value(on)
                on ^= 1
                await self._wait_or_change(ms)
            self.pin.value(0)

    async def _wait_or_change(self, ms):
        # Sleep until the step ends or the pattern changes, whichever is first: a new
        # pattern shows at once, and nothing wakes in between.
        try:
            await wait_for_ms(self._changed.wait(), ms)
        except asyncio.TimeoutError:
            pass
