"""One owner for the button (docs/supervision.md, "The button"): every released press goes
to exactly one consumer, in this order:

1. a confirmation wait (CONFIRM: an override schedule's hold, the maintenance REPL's hold);
2. a test wait (TEST: dispense.test, and whatever else asks "is a person at the device");
3. a session (SESSION: an open calibration holds one that no press satisfies, so every
   press no wait above takes is its, never a dose's, until the session ends);
4. the dose (App.button_loop hands the press to the controller).

A press belongs to the first wait, in that order, that was already open when the press
began; a press begun before every open wait goes to the dose. A wait that a press
satisfies (held at least its `hold_ms`) is closed at once, so one hold never confirms two
things; a press that a wait takes without satisfying it (too short) is still that wait's.

Waits are claimed and released by their owner only (`claim` ... `release`, in a finally):
no state outlives the consumer that set it, and nothing here is set from outside.
"""

import asyncio

from dispenser.compat import const, ticks_diff, ticks_ms
from dispenser.timing import wait_for_ms

CONFIRM = const(0)
TEST = const(1)
SESSION = const(2)
# After its window, a wait still ends only once a hold that began in time is released, but
# never later than this past the window: a stuck button cannot keep it open.
_OVERRUN_MS = const(1000)
# The button loop hands a press over a little after its release (debounce, hold polling): a
# wait stays open this long past its window, so a press released just in time is still its.
_HANDOVER_MS = const(100)
_SLICE_MS = const(100)
_NO_PRESS_THIS_LONG_MS = const(0x3FFFFFFF)  # a SESSION wait's hold: no press satisfies it


class Wait:
    """One consumer waiting for a press: `rank` (CONFIRM, TEST or SESSION), `hold_ms` the
    shortest press that satisfies it (0: any press)."""

    def __init__(self, rank, hold_ms):
        self.rank = rank
        self.hold_ms = hold_ms
        self.opened = ticks_ms()
        self.done = asyncio.Event()

    async def wait(self, button, window_ms):
        """True once a press satisfied this wait within `window_ms` (a hold begun in time
        may end after it, within _OVERRUN_MS); False otherwise."""
        done = self.done
        while not done.is_set():
            left = window_ms - ticks_diff(ticks_ms(), self.opened)
            if left <= -_HANDOVER_MS and (
                not button.is_pressed() or left <= -(self.hold_ms + _OVERRUN_MS)
            ):
                break
            try:
                await wait_for_ms(done.wait(), max(left, _SLICE_MS))
            except asyncio.TimeoutError:
                pass
        return done.is_set()


class Arbiter:
    def __init__(self):
        self._waits = []  # open waits, by rank, then oldest first

    def claim(self, rank, hold_ms=0):
        """Open a Wait; its owner must release() it when done, whatever happened."""
        wait = Wait(rank, hold_ms)
        waits = self._waits
        i = 0
        while i < len(waits) and waits[i].rank <= rank:
            i += 1
        waits.insert(i, wait)
        return wait

    def session(self):
        """Open a SESSION wait: it takes every press no other wait takes, and no press ends
        it (nobody holds a button that long); only its owner's release() does."""
        return self.claim(SESSION, _NO_PRESS_THIS_LONG_MS)

    def release(self, wait):
        if wait in self._waits:
            self._waits.remove(wait)

    def take(self, pressed_at, held_ms):
        """The Wait that a press begun at `pressed_at` (ticks) and held `held_ms` belongs
        to, or None: the dose's. A wait it satisfies is closed at once."""
        for wait in self._waits:
            if ticks_diff(pressed_at, wait.opened) >= 0:
                if held_ms >= wait.hold_ms:
                    self._waits.remove(wait)
                    wait.done.set()
                return wait
        return None

    def busy(self):
        """Whether any wait is open (the tests' view of the arbiter)."""
        return bool(self._waits)
