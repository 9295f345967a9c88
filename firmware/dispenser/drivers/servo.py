"""Hopper servo (SG90 class): ramp between calibrated pulse widths, then let go.

Contract: `pwm.freq(hz)`, `pwm.duty_ns(ns)` (machine.PWM on the rp2 port).

Ramping keeps the pill from being flung and the supply from sagging; releasing (duty 0)
afterwards stops the jitter and heating of a servo that holds position against nothing.
Each compartment's rest and drop pulse widths are calibrated per device and passed in.
"""

from dispenser.compat import const
from dispenser.drivers.timing import sleep_ms

_FREQ_HZ = const(50)


class Servo:
    def __init__(self, pwm, rest_us=1000, drop_us=2000, step_us=50, step_ms=10, hold_ms=250):
        self.pwm = pwm
        self.rest_us = rest_us
        self.drop_us = drop_us
        self.step_us = step_us
        self.step_ms = step_ms
        self.hold_ms = hold_ms
        self.position_us = rest_us  # assumed at rest after power-up; release() keeps it there
        pwm.freq(_FREQ_HZ)
        self.release()

    def release(self):
        """Stop the pulses: the servo holds by friction, silent and cool."""
        self.pwm.duty_ns(0)

    async def move_to(self, target_us):
        step = self.step_us if target_us >= self.position_us else -self.step_us
        while self.position_us != target_us:
            remaining = target_us - self.position_us
            self.position_us += step if abs(remaining) > self.step_us else remaining
            self.pwm.duty_ns(self.position_us * 1000)
            await sleep_ms(self.step_ms)

    async def actuate(self):
        """One drop: rest -> drop position, hold, back to rest, release. Always ends released,
        even if cancelled."""
        try:
            await self.move_to(self.drop_us)
            await sleep_ms(self.hold_ms)
            await self.move_to(self.rest_us)
        finally:
            self.release()
