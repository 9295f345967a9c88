"""Blink patterns: what the status LED does for each engine status.

A pattern is a tuple of millisecond durations, alternately on and off, starting with on,
repeated. STEADY_ON / OFF are the two patterns without timing (no task wakes for them).
"""

from dispenser.core import engine

OFF = ()
STEADY_ON = (0,)
HEARTBEAT = (40, 2960)  # idle: alive, barely visible
DUE = (500, 500)
DUE_URGENT = (150, 150)  # reminder level 3
TIME_UNKNOWN = (100, 100, 100, 700)  # double blink until the host sets the clock
NOTHING_DUE = (60, 60, 60, 60, 60, 2700)  # three short flickers
REFUSED = (700, 300)
LOW_STOCK = (1500, 500)
ERROR = (80, 80)  # jam, or log not replayed
IDENTIFY = (50, 50)
CONFIRM_OVERRIDE = (1000, 200, 150, 200, 150, 600)  # long, short, short: hold the button

_BY_STATUS = {
    engine.STATUS_IDLE: HEARTBEAT,
    engine.STATUS_DUE: DUE,
    engine.STATUS_TIME_UNKNOWN: TIME_UNKNOWN,
    engine.STATUS_NOTHING_DUE: NOTHING_DUE,
    engine.STATUS_REFUSED: REFUSED,
    engine.STATUS_ERROR: ERROR,
    engine.STATUS_LOW: LOW_STOCK,
}


def status_pattern(indication):
    """The status LED pattern for an engine Indication."""
    if indication.status == engine.STATUS_DUE and indication.level >= 3:
        return DUE_URGENT
    return _BY_STATUS.get(indication.status, ERROR)


def compartment_pattern(indication, hopper):
    """A compartment LED: fast blink when jammed, on when its dose is due, a slow blink
    when its stock is low (so the person sees which hopper to refill), else off."""
    bit = 1 << hopper
    if indication.jam_mask & bit:
        return ERROR
    if indication.due_mask & bit:
        return STEADY_ON if indication.level < 3 else DUE_URGENT
    if indication.low_mask & bit:
        return LOW_STOCK
    return OFF
