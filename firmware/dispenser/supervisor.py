"""Supervised tasks and the watchdog: a task that dies or stalls is logged, then the board
resets; a board that keeps crashing stops in a safe state instead of boot-looping.

`spawn(name, coro_fn, critical)` runs `coro_fn(check_in)`. The task calls `check_in()` each
time round its loop; a task that waits legitimately for long (the serial line, the button,
the schedule sleeping until the next dose) waits in bounded slices and checks in after each
one, so waiting is never mistaken for death.

- Critical tasks (serial, button, schedule): the watchdog is fed only while every one of
  them has checked in within `stale_ms`. An uncaught exception, or a task that stops
  checking in, writes an ERROR record (which task, which exception type) and resets the
  board. A hung event loop starves the watchdog, which resets the board without a record.
- Non-critical tasks (the Pico W's network, later): an exception is logged and the task is
  restarted after a backoff that doubles up to _BACKOFF_MAX_MS; it never holds the watchdog.

What happens on a failure (the ERROR record, the crash count in the scratch words, the
reset) is in dispenser/rescue.py, imported only when a task fails: CRASH_LIMIT crashes in a
row halt the board in a safe state at the next boot (app.py).
"""

import asyncio

from dispenser import WATCHDOG_MS
from dispenser.compat import Transient, const, ticks_diff, ticks_ms
from dispenser.core import timekeep
from dispenser.timing import sleep_ms

_FEED_MS = const(1000)
# The longest a critical task may go without checking in. The schedule loop naps at most
# clock.MAX_NAP_MS (60 s) between check-ins; the serial and button loops check in every
# CHECKIN_MS while idle.
_STALE_MS = const(75000)
CHECKIN_MS = const(20000)
_BACKOFF_MIN_MS = const(1000)
_BACKOFF_MAX_MS = const(300000)
# What only a failure needs (1.8 KB on the rp2 heap): resident only while it is handled.
RESCUE_CODE = Transient(("dispenser.rescue",))


class Supervisor:
    def __init__(self, board, log_error, stale_ms=_STALE_MS, backoff_ms=_BACKOFF_MIN_MS):
        """`log_error(code, detail)` appends an ERROR record; it may raise (the log may be
        what failed), which does not stop the reset."""
        self._board = board
        self._log_error = log_error
        self._stale_ms = stale_ms
        self._backoff_ms = backoff_ms
        self._critical = []  # [name, ticks of its last check-in] per critical task
        self._started = ticks_ms()
        self.watchdog = None

    def spawn(self, name, coro_fn, critical=True):
        """Run `coro_fn(check_in)` as the supervised task `name`; returns the asyncio task.
        Only a critical task's check_in() counts (and reaches board.fault_point); a
        non-critical one gets a check_in that does nothing, which saves a closure per LED."""
        if not critical:
            return asyncio.create_task(self._restarting(name, coro_fn))
        entry = [name, ticks_ms()]
        self._critical.append(entry)
        board = self._board

        def check_in():
            entry[1] = ticks_ms()
            board.fault_point(name)

        return asyncio.create_task(self._critical_task(name, coro_fn, check_in))

    async def _critical_task(self, name, coro_fn, check_in):
        try:
            await coro_fn(check_in)
            raise RuntimeError("task ended")  # supervised tasks run forever
        except Exception as exc:
            self.crash(name, exc)

    async def _restarting(self, name, coro_fn):
        backoff = self._backoff_ms
        while True:
            started = ticks_ms()
            try:
                await coro_fn(_no_check_in)
                raise RuntimeError("task ended")  # supervised tasks run forever
            except Exception as exc:
                self._record(name, exc)
            if ticks_diff(ticks_ms(), started) > _BACKOFF_MAX_MS:
                backoff = self._backoff_ms  # it ran well for a while: start the backoff over
            await sleep_ms(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX_MS)

    def stalled(self):
        """The first critical task that has not checked in within stale_ms, or None."""
        now = ticks_ms()
        for name, seen in self._critical:
            if ticks_diff(now, seen) > self._stale_ms:
                return name
        return None

    async def feed_watchdog(self):
        """Feed the watchdog while every critical task checks in, saving the time in the
        scratch words each time; a stalled task is handled like a crash."""
        board = self._board
        watchdog = board.start_watchdog(WATCHDOG_MS)
        self.watchdog = watchdog
        while True:
            name = self.stalled()
            if name is not None:
                self.crash(name, None)
                return
            watchdog.feed()
            timekeep.save(board.scratch, board.clock.now())
            await sleep_ms(_FEED_MS)

    def crash(self, name, exc):
        """Log which task failed and how, count the crash, save the time, reset the board."""
        board = self._board
        try:
            from dispenser.rescue import crash
        except Exception:  # no heap left even to load it: reset all the same, uncounted
            timekeep.save(board.scratch, board.clock.now())
            board.reset()
            return
        crash(board, self._log_error, name, exc, ticks_diff(ticks_ms(), self._started) // 1000)

    def _record(self, name, exc):
        """A non-critical task failed: logged, then it restarts (rescue unloaded again)."""
        with RESCUE_CODE:
            from dispenser.rescue import record_failure

            record_failure(self._log_error, name, exc)


def _no_check_in():
    """A non-critical task's check_in: it holds no watchdog."""
