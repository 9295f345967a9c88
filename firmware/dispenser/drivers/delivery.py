"""Dropping a dose's pills: the hopper servo, the drop sensor, and delivery with bounded
retries. One module, as the three are always loaded together (each module costs heap of its
own on a Pico: DESIGN.md, "Figures", heap).

Delivery. DESIGN.md invariant 7: a pill that is not seen is retried a bounded number of
times, then the caller is told how many pills arrived (it reports a jam to the engine); this
never loops forever. Without a sensor every actuation counts as delivered.

Servo (SG90 class): ramp between calibrated pulse widths, then let go. Contract:
`pwm.freq(hz)`, `pwm.duty_ns(ns)` (machine.PWM on the rp2 port). Ramping keeps the pill from
being flung and the supply from sagging; releasing (duty 0) afterwards stops the jitter and
heating of a servo that holds position against nothing. Each compartment's rest and drop
pulse widths are calibrated per device and passed in.

Drop sensor (IR break-beam): did a pill fall? Contract: `pin.value()` -> 0 or 1; with
`active_low` (the usual receiver module) a broken beam reads 0. The sensor is polled only
while a dispense waits for a pill (a few hundred milliseconds), never in idle, so the idle
board does not busy-poll.
"""

import asyncio

from dispenser.compat import const, ticks_add, ticks_diff, ticks_ms
from dispenser.timing import sleep_ms

_SERVO_FREQ_HZ = const(50)
# The pulse widths a calibration may choose: hobby servos' safe range, beyond which some hit
# their end stops (dispenser.setupfiles, pillctl calibrate).
MIN_US = const(500)
MAX_US = const(2500)


class Servo:
    def __init__(self, pwm, rest_us=1000, drop_us=2000, step_us=50, step_ms=10, hold_ms=250):
        self.pwm = pwm
        self.rest_us = rest_us
        self.drop_us = drop_us
        self.step_us = step_us
        self.step_ms = step_ms
        self.hold_ms = hold_ms
        self.position_us = rest_us  # assumed at rest after power-up; release() keeps it there
        pwm.freq(_SERVO_FREQ_HZ)
        self.release()

    def calibrate(self, rest_us, drop_us, at_rest=False):
        """New pulse widths from the next movement on; `at_rest`: the servo is known to be at
        the new rest (at boot, before any movement)."""
        self.rest_us = rest_us
        self.drop_us = drop_us
        if at_rest:
            self.position_us = rest_us

    def release(self):
        """Stop the pulses: the servo holds by friction, silent and cool."""
        self.pwm.duty_ns(0)

    def hold(self):
        """Drive the position it is at (after a release): the start of a calibration."""
        self.pwm.duty_ns(self.position_us * 1000)

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


DEFAULT_RETRIES = const(2)
_DEFAULT_TIMEOUT_MS = const(1500)  # from the start of the actuation


async def _drop_seen(servo, sensor, timeout_ms):
    # Watch from before the servo moves: the pill can fall during the travel.
    watch = asyncio.create_task(sensor.wait_drop(timeout_ms))
    await servo.actuate()
    return await watch


async def deliver(servo, sensor, pills, retries=DEFAULT_RETRIES, timeout_ms=_DEFAULT_TIMEOUT_MS):
    """Drop `pills` pills; returns how many arrived (== pills unless the hopper jammed)."""
    delivered = 0
    for _ in range(pills):
        if sensor is None:
            await servo.actuate()
            delivered += 1
            continue
        for _ in range(1 + retries):
            if await _drop_seen(servo, sensor, timeout_ms):
                delivered += 1
                break
        else:
            return delivered  # jammed: do not try the remaining pills
    return delivered
