"""Wall-clock time for the app: a value that may be unknown, and sleeps that wake on change.

Boards give the app a clock built on this class. The app asks `now()` (UTC epoch seconds, or
None while the time is unknown: never set, or earlier than localtime.MIN_VALID_TIME, as the
rp2 RTC's 2021 restart value is) and sleeps until a wall time with `sleep_until()`. Setting
the clock, or a simulated clock jumping, wakes every sleeper at once so the schedule is
re-evaluated immediately rather than after a stale sleep.
"""

import asyncio

from dispenser.compat import const
from dispenser.core.localtime import MIN_VALID_TIME
from dispenser.timing import sleep_ms, wait_for_ms

MAX_NAP_MS = const(60000)  # re-check at least once a minute: tolerate RTC drift corrections


class Clock:
    """Base class. Subclasses implement `_read()` (the counter's epoch seconds, valid or not,
    or None without one) and `_write(t)`."""

    def __init__(self):
        self._changed = asyncio.Event()

    def now(self):
        """UTC epoch seconds (int), or None while the time is unknown."""
        t = self._read()
        return t if t is not None and t >= MIN_VALID_TIME else None

    def is_set(self):
        return self.now() is not None

    def counter(self):
        """The raw seconds, valid or not (None without a counter): dispenser.core.timekeep adds
        what an RTC restarted at a reset has counted to the time saved before it."""
        return self._read()

    def set(self, epoch_s):
        self._write(epoch_s)
        self.changed()

    def changed(self):
        """Wake every `sleep_until` so callers re-read the time."""
        self._changed.set()
        self._changed = asyncio.Event()

    def ms_until(self, epoch_s):
        """Real milliseconds (an int: asyncio's timers take no float) until the wall time
        `epoch_s` at the clock's current rate."""
        now = self.now()
        if now is None:
            return MAX_NAP_MS
        return (epoch_s - now) * 1000

    async def sleep_until(self, epoch_s):
        """Return when the wall time reaches `epoch_s` or the clock is set or jumps."""
        changed = self._changed
        delay = self.ms_until(epoch_s)
        if delay <= 0:
            await sleep_ms(0)
            return
        try:
            await wait_for_ms(changed.wait(), min(delay, MAX_NAP_MS))
        except asyncio.TimeoutError:
            pass

    def _read(self):
        raise NotImplementedError

    def _write(self, epoch_s):
        raise NotImplementedError
