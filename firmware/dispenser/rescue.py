"""What the firmware does when things go wrong: a task that failed (logged, counted, the
board reset), the crash count in the scratch words, the halted state after too many,
maintenance after a Ctrl-C wherever it landed, and a failed boot counted as a crash.
Imported only then (and for one look at the crash count at boot), and unloaded after a
failure the app survives, so the running app does not carry this code in RAM
(compat.unload).

Crashes are counted in the board's scratch words 2-3, which survive every reset but not a
power loss: CRASH_LIMIT crashes within _CRASH_WINDOW_S seconds of running time halt the board
in a safe state at the next boot (app.py). Words 0-1 hold the time (timekeep.py).
"""

import asyncio

from dispenser import CRASH_LIMIT, WATCHDOG_MS
from dispenser.compat import const, print_exception
from dispenser.core import logrec, patterns, timekeep

_CRASH_WINDOW_S = const(600)
_CRASH_WORD = const(2)  # _CRASH_MAGIC << 16 | crashes in the current streak
_RUN_WORD = const(3)  # seconds the board ran, summed over the streak's crashes
_CRASH_MAGIC = const(0x5AFE)
_SAFE_MODE_WHO = b"the button at power-on"  # the MAINTENANCE record's who

# ERR_TASK_FAILED's detail names the task and the exception type by their index here
# (0 = another one; an exception type's index is its place in _FAILURE_TYPES + 2, 1 is a
# critical task that stalled: docs/log-format.md lists them).
TASK_NAMES = ("?", "boot", "serial", "button", "schedule", "buzzer", "leds", "events", "network")
_FAILURE_TYPES = (
    OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError,
    MemoryError, ZeroDivisionError, AssertionError, NotImplementedError,
)  # fmt: skip


def task_failure(task, exc):
    """ERR_TASK_FAILED's detail for task name `task` and exception `exc` (None: stalled)."""
    task_code = TASK_NAMES.index(task) if task in TASK_NAMES else 0
    failure = 1
    if exc is not None:
        failure = 0
        for i in range(len(_FAILURE_TYPES)):
            if type(exc) is _FAILURE_TYPES[i]:
                failure = i + 2
                break
    return task_code << 8 | failure


def record_failure(log_error, name, exc):
    """Print and log (ERROR, ERR_TASK_FAILED) that task `name` failed with `exc` (None: it
    stalled); a failing log append is printed too, and goes no further."""
    if exc is not None:
        print_exception(exc)
    try:
        log_error(logrec.ERR_TASK_FAILED, task_failure(name, exc))
    except Exception as log_exc:  # the log may be what failed: reset all the same
        print_exception(log_exc)


def crash(board, log_error, name, exc, ran_s):
    """A critical task failed or stalled after `ran_s` seconds of running: log which task
    failed and how, count the crash, save the time, reset the board."""
    record_failure(log_error, name, exc)
    note_crash(board.scratch, ran_s)
    timekeep.save(board.scratch, board.clock.now())
    board.reset()


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


def maintenance(board):
    """The maintenance REPL, once confirmed by a hold at the device (or after a Ctrl-C
    that landed before kbd_intr(-1)): the watchdog fed for the board's maintenance window
    (mpremote can deploy), then a reset back into dispensing. `board` is None when the
    interrupt came before board.build() returned: build it again (it only sets pins)."""
    import micropython

    micropython.kbd_intr(3)  # the REPL's Ctrl-C again, for mpremote
    if board is None:
        import board as board_file  # pyright: ignore[reportMissingImports]

        board = board_file.build()
    # The window ends in a watchdog reset, which restarts a Pico's RTC: keep the time now,
    # as the app does before every reset it makes (the app's last save may be a second old,
    # or missing if the clock was set just before the Ctrl-C).
    timekeep.save(board.scratch, board.clock.now())
    watchdog = board.start_watchdog(WATCHDOG_MS)  # the running one, if the app started it
    seconds = board.maintenance_s
    board.feed_for(watchdog, seconds)
    print("dispenser: maintenance mode; back to dispensing in %d s (machine.reset() now)" % seconds)


def safe_mode(board):
    """The button was held at power-on: no app, no watchdog, the REPL with Ctrl-C, until
    the next power-on or reset. Only a person at the device can get here."""
    import micropython

    for pwm in board.servo_pwms:  # no pulses: the servos stay limp
        pwm.duty_ns(0)
    _log_safe_mode(board)  # before Ctrl-C works again: nothing interrupts the append
    micropython.kbd_intr(3)
    print("dispenser: safe mode (button held at power-on): REPL; reset or replug to dispense")


def _log_safe_mode(board):
    # The log says why nothing was dispensed while the board sat at the REPL. Best effort:
    # a log that cannot be written must not keep the person from the REPL.
    try:
        from dispenser.logstore import LOG_DIR, LogStore

        store = LogStore(LOG_DIR, budget=board.log_budget)
        fields = (logrec.MAINT_SAFE_MODE, _SAFE_MODE_WHO)
        store.append(board.clock.now() or 0, logrec.MAINTENANCE, fields)
    except Exception as exc:
        print_exception(exc)


def boot_failed(board, exc):
    """An exception before the app's tasks ran (App() itself): counted as a crash, then a
    reset; once the crashes reach CRASH_LIMIT the board stays at the REPL instead of
    boot-looping (nothing was built that moves)."""
    print_exception(exc)
    if board is None:  # board.build() itself failed: nothing to count in or reset with
        return
    count = note_crash(board.scratch, 0)
    if count > CRASH_LIMIT:
        print("dispenser: halted: the boot failed %d times in a row; unplug to retry" % count)
        return
    timekeep.save(board.scratch, board.clock.now())
    board.reset()


async def halt(app):
    """The safe error state: nothing moves, the status LED shows the error, and the
    serial line answers (not critical: a failure there restarts it, never the board)."""
    controller = app.controller
    controller.safe()
    controller.status_led.show(patterns.ERROR)
    asyncio.create_task(controller.status_led.run())
    try:
        app.log_error(logrec.ERR_HALTED, app.crashes)
    except Exception as exc:  # the log may be what keeps failing
        print_exception(exc)
    await app.supervisor.spawn("serial", app.serial_loop, False)
