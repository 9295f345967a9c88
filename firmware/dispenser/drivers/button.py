"""The dispense button: short press and long press, debounced, without idle polling.

Contract: `pin.value()` returns 0 while pressed (pull-up wiring) unless `active` says
otherwise; `edge.wait()` returns after the pin changed. On a Pico the board connects
`pin.irq()` to a ThreadSafeFlag's `set()`, so the interrupt handler allocates nothing and the
idle button costs no CPU. The pin is only polled while the button is held.

Both ends are debounced: a press counts once the pin has read pressed for `debounce_ms`,
and a release only once it has read released for `debounce_ms` without a break, so a
chattering contact during a long hold (snooze) never ends it early as a short press
(dispense).
"""

import asyncio

from dispenser.compat import const, ticks_add, ticks_diff, ticks_ms
from dispenser.timing import sleep_ms, wait_for_ms

SHORT = const(1)
LONG = const(2)

_HOLD_POLL_MS = const(10)


class Button:
    def __init__(self, pin, edge, active=0, debounce_ms=20, long_ms=1500):
        self._pin = pin
        self._edge = edge
        self._active = active
        self._debounce_ms = debounce_ms
        self._long_ms = long_ms
        self._since = None  # ticks when the press in progress began, across press() calls
        self.pressed_at = 0  # ticks when the last press returned began (an override's hold)
        self.held_ms = 0

    def is_pressed(self):
        return self._pin.value() == self._active

    async def press(self, wait_ms):
        """The next press: SHORT or LONG once the button is released, or None after
        `wait_ms` without one (a hold in progress carries over to the next call), so the
        caller can check in with its supervisor while nobody presses."""
        deadline = ticks_add(ticks_ms(), wait_ms)
        while True:
            if self._since is None:
                left = ticks_diff(deadline, ticks_ms())
                if left <= 0 or not await self._edge_within(left):
                    return None
                if not self.is_pressed():
                    continue  # a release edge, or a bounce that already settled
                await sleep_ms(self._debounce_ms)
                if not self.is_pressed():
                    continue
                self._since = ticks_ms()
            held = await self._release(deadline, self._since)
            if held is None:
                return None
            self.pressed_at = self._since
            self.held_ms = held
            self._since = None
            return LONG if held >= self._long_ms else SHORT

    async def _release(self, deadline, since):
        """How long the press lasted, once the release has been stable for debounce_ms;
        None at the deadline while still held."""
        released = None
        while True:
            if released is None and ticks_diff(deadline, ticks_ms()) <= 0:
                return None
            await sleep_ms(_HOLD_POLL_MS)
            if self.is_pressed():
                released = None  # a bounce, not a release
                continue
            now = ticks_ms()
            if released is None:
                released = now
            elif ticks_diff(now, released) >= self._debounce_ms:
                return ticks_diff(released, since)

    async def _edge_within(self, ms):
        try:
            await wait_for_ms(self._edge.wait(), ms)
            return True
        except asyncio.TimeoutError:
            return False
