"""Drop a dose's pills: servo actuation, drop-sensor check, bounded retries.

DESIGN.md invariant 7: a pill that is not seen is retried a bounded number of times, then
the caller is told how many pills arrived (it reports a jam to the engine); this never loops
forever. Without a sensor every actuation counts as delivered.
"""

import asyncio

from dispenser.compat import const

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
