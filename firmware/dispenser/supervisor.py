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

Crashes are counted in the board's scratch words 2-3, which survive every reset but not a
power loss: CRASH_LIMIT crashes within _CRASH_WINDOW_S seconds of running time halt the board
in a safe state at the next boot (app.py). Words 0-1 hold the time (timekeep.py).
"""

import asyncio

from dispenser import logrec, timekeep
from dispenser.compat import const, print_exception, ticks_diff, ticks_ms
from dispenser.drivers.timing import sleep_ms

WATCHDOG_MS = const(8000)  # the RP2040's longest watchdog period is 8.3 s
_FEED_MS = const(1000)
# The longest a critical task may go without checking in. The schedule loop naps at most
# clock.MAX_NAP_MS (60 s) between check-ins; the serial and button loops check in every
# CHECKIN_MS while idle.
_STALE_MS = const(75000)
CHECKIN_MS = const(20000)
_BACKOFF_MIN_MS = const(1000)
_BACKOFF_MAX_MS = const(300000)
CRASH_LIMIT = const(3)
_CRASH_WINDOW_S = const(600)

_CRASH_WORD = const(2)  # CRASH_MAGIC << 16 | crashes in the current streak
_RUN_WORD = const(3)  # seconds the board ran, summed over the streak's crashes
_CRASH_MAGIC = const(0x5AFE)


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
        """Run `coro_fn(check_in)` as the supervised task `name`; returns the asyncio task."""
        entry = [name, ticks_ms()]
        if critical:
            self._critical.append(entry)
        board = self._board

        def check_in():
            entry[1] = ticks_ms()
            board.fault_point(name)

        return asyncio.create_task(self._run(name, coro_fn, check_in, critical))

    async def _run(self, name, coro_fn, check_in, critical):
        backoff = self._backoff_ms
        while True:
            started = ticks_ms()
            try:
                await coro_fn(check_in)
                raise RuntimeError("task ended")  # supervised tasks run forever
            except Exception as exc:
                if critical:
                    self.crash(name, exc)
                    return
                print_exception(exc)
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
        if exc is not None:
            print_exception(exc)
        self._record(name, exc)
        board = self._board
        note_crash(board.scratch, ticks_diff(ticks_ms(), self._started) // 1000)
        timekeep.save(board.scratch, board.clock.now())
        board.reset()

    def _record(self, name, exc):
        try:
            self._log_error(logrec.ERR_TASK_FAILED, logrec.task_failure(name, exc))
        except Exception as log_exc:  # the log may be what failed: reset all the same
            print_exception(log_exc)


def note_crash(scratch, ran_s):
    """Count a crash after `ran_s` seconds of running; returns the streak's count. The
    streak starts over once its crashes are more than _CRASH_WINDOW_S of running apart."""
    if scratch is None:
        return 1
    count = crash_count(scratch)
    ran = scratch.read(_RUN_WORD) if count else 0
    ran += ran_s
    if ran > _CRASH_WINDOW_S:
        count, ran = 0, ran_s
    count += 1
    scratch.write(_CRASH_WORD, _CRASH_MAGIC << 16 | count)
    scratch.write(_RUN_WORD, ran)
    return count


def crash_count(scratch):
    """Crashes in the current streak (0 after a power loss)."""
    if scratch is None:
        return 0
    word = scratch.read(_CRASH_WORD)
    return word & 0xFF if word >> 16 == _CRASH_MAGIC else 0
