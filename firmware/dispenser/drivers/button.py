"""The dispense button: short press and long press, debounced, without idle polling.

Contract: `pin.value()` returns 0 while pressed (pull-up wiring) unless `active` says
otherwise; `edge.wait()` returns after the pin changed. On a Pico the board connects
`pin.irq()` to a ThreadSafeFlag's `set()`, so the interrupt handler allocates nothing and the
idle button costs no CPU. The pin is only polled while the button is held.
"""

import asyncio

from dispenser.compat import const, ticks_diff, ticks_ms

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
        self.pressed_at = 0
        self.held_ms = 0

    def is_pressed(self):
        return self._pin.value() == self._active

    async def press(self):
        """Wait for the next press; returns SHORT or LONG once the button is released."""
        while True:
            await self._edge.wait()
            if not self.is_pressed():
                continue  # a release edge, or a bounce that already settled
            await asyncio.sleep_ms(self._debounce_ms)
            if not self.is_pressed():
                continue
            started = ticks_ms()
            while self.is_pressed():
                await asyncio.sleep_ms(_HOLD_POLL_MS)
            held = ticks_diff(ticks_ms(), started)
            self.pressed_at = started  # of the press just returned (an override's hold)
            self.held_ms = held
            return LONG if held >= self._long_ms else SHORT
