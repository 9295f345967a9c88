"""What main.py does when the boot does not reach the running app: maintenance after a
Ctrl-C wherever it landed, and a failed boot counted as a crash. Imported only then, so the
running app does not carry this code in RAM.
"""

from dispenser import timekeep
from dispenser.compat import print_exception
from dispenser.supervisor import CRASH_LIMIT, WATCHDOG_MS, note_crash


def maintenance(board):
    """After Ctrl-C, wherever it landed: the watchdog fed for the board's maintenance
    window (mpremote can deploy), then a reset back into dispensing. `board` is None when
    the interrupt came before board.build() returned: build it again (it only sets pins)."""
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
