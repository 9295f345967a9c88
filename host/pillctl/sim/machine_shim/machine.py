# The simulated board's `machine` module (MicroPython). The runner puts this folder last on
# MICROPYPATH, outside the flash: `machine` is an extensible built-in, so this file extends
# the unix port's (imported as `umachine`) with what the rp2 port has and the unix one lacks.
#
# Resets are done by the runner, as a Pico's are done by hardware: the board asks for one
# on the trace FIFO and waits to be killed. A SystemExit would not do: the unix port runs
# `micropython -i main.py` and drops into its REPL after one.
import os
import time

from umachine import (  # noqa: F401  (the unix port's; the rp2 stubs lack PinBase)
    PinBase,  # pyright: ignore[reportAttributeAccessIssue]
    Signal,
    idle,
    mem8,
    mem16,
    mem32,
    time_pulse_us,
)

PWRON_RESET = 1  # the rp2 port's values
WDT_RESET = 3

# machine.reset() on a Pico goes through the watchdog, so reset_cause() says WDT_RESET;
# a soft reset leaves the cause of the last hard reset.
_CAUSES = {"power": PWRON_RESET, "wdt": WDT_RESET, "reset": WDT_RESET}


def _request(cause):
    with open(os.getenv("PILLCTL_SIM_OUT") or "", "w") as out:
        out.write("sim %d - reset %s\n" % (time.ticks_ms(), cause))
    while True:  # the runner kills this process and boots the board again
        time.sleep(1)


def reset():
    """Hard reset: the board boots again with reset cause "reset"."""
    _request("reset")


def soft_reset():
    """Soft reset: main.py runs again, or the raw REPL comes back if the board was in it."""
    _request("soft")


def reset_cause():
    return _CAUSES.get(os.getenv("PILLCTL_SIM_HARD_RESET") or "power", PWRON_RESET)


def unique_id():
    """8 bytes, fixed per board: the sim's device id, a hash of its flash folder's path."""
    return bytes.fromhex(os.getenv("PILLCTL_SIM_ID") or "51a0000000000000")
