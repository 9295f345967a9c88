"""IR break-beam drop sensor: did a pill fall?

Contract: `pin.value()` -> 0 or 1; with `active_low` (the usual receiver module) a broken
beam reads 0. The sensor is polled only while a dispense waits for a pill (a few hundred
milliseconds), never in idle, so the idle board does not busy-poll.
"""

from dispenser.compat import const, ticks_add, ticks_diff, ticks_ms
from dispenser.drivers.timing import sleep_ms

_POLL_MS = const(2)  # a pill crosses a 3 mm beam in about 5 ms


class DropSensor:
    def __init__(self, pin, active_low=True):
        self.pin = pin
        self.broken_value = 0 if active_low else 1

    def beam_broken(self):
        return self.pin.value() == self.broken_value

    async def wait_drop(self, timeout_ms):
        """True as soon as the beam is broken, False after `timeout_ms` without."""
        deadline = ticks_add(ticks_ms(), timeout_ms)
        while ticks_diff(deadline, ticks_ms()) > 0:
            if self.beam_broken():
                return True
            await sleep_ms(_POLL_MS)
        return self.beam_broken()
