"""Supervised tasks: a failing or stalled critical task is logged and resets the board,
the watchdog is fed only while every critical task checks in, non-critical tasks restart
with a backoff, and crashes in a row are counted across resets."""

import asyncio

from supervisetools import T0, FakeBoard, Recorder

from dispenser import CRASH_LIMIT, rescue
from dispenser.core import logrec, timekeep
from dispenser.supervisor import Supervisor
from dispenser.timing import sleep_ms


def _run_until_reset(board, sup, *tasks):
    """Spawn (name, coroutine function, critical) tasks with the watchdog feeder; True once
    the board resets, False if 3 s pass without a reset."""

    async def main():
        asyncio.create_task(sup.feed_watchdog())
        for name, fn, critical in tasks:
            sup.spawn(name, fn, critical)
        for _ in range(150):
            if board.resets:
                return True
            await sleep_ms(20)
        return False

    return asyncio.run(main())


def _raises_after_check_in(exc):
    async def task(check_in):
        check_in()
        await sleep_ms(10)
        raise exc

    return task


async def _checks_in_forever(check_in):
    while True:
        check_in()
        await sleep_ms(50)


def test_a_task_that_raises_is_logged_and_resets_the_board():
    board, log = FakeBoard(), Recorder()
    sup = Supervisor(board, log)
    assert _run_until_reset(board, sup, ("button", _raises_after_check_in(OSError(5)), True))
    assert log.errors == [(logrec.ERR_TASK_FAILED, rescue.task_failure("button", OSError()))]
    assert board.resets == 1
    assert rescue.crash_count(board.scratch) == 1
    assert timekeep.saved(board.scratch) == T0  # the time survives the reset


def test_a_log_that_fails_does_not_stop_the_reset():
    board = FakeBoard()
    sup = Supervisor(board, Recorder(fails=True))
    assert _run_until_reset(board, sup, ("schedule", _raises_after_check_in(ValueError()), True))
    assert board.resets == 1 and rescue.crash_count(board.scratch) == 1


def test_a_fault_injected_at_a_check_in_fails_that_task():
    board, log = FakeBoard(), Recorder()
    board.armed.append("schedule")
    sup = Supervisor(board, log)
    assert _run_until_reset(
        board, sup, ("serial", _checks_in_forever, True), ("schedule", _checks_in_forever, True)
    )
    detail = log.errors[0][1]
    assert rescue.TASK_NAMES[detail >> 8] == "schedule"
    assert detail & 0xFF == 8  # RuntimeError, as docs/log-format.md numbers the failures


def test_tasks_that_check_in_keep_the_watchdog_fed():
    board, log = FakeBoard(), Recorder()
    sup = Supervisor(board, log, stale_ms=1000)
    # Waiting is no death: both wait in bounded slices and check in after each one.
    assert not _run_until_reset(
        board, sup, ("serial", _checks_in_forever, True), ("button", _checks_in_forever, True)
    )
    assert board.watchdog.feeds >= 2 and log.errors == [] and board.resets == 0


def test_a_critical_task_that_stops_checking_in_starves_into_a_logged_reset():
    board, log = FakeBoard(), Recorder()
    sup = Supervisor(board, log, stale_ms=500)

    async def hangs(check_in):
        check_in()
        await asyncio.Event().wait()  # waits for ever, never checks in again

    assert _run_until_reset(
        board, sup, ("serial", _checks_in_forever, True), ("button", hangs, True)
    )
    assert log.errors == [(logrec.ERR_TASK_FAILED, rescue.task_failure("button", None))]
    assert board.resets == 1


def test_a_non_critical_task_is_restarted_with_backoff_and_never_resets():
    board, log = FakeBoard(), Recorder()
    sup = Supervisor(board, log, backoff_ms=100)
    runs = []

    async def flaky(check_in):
        runs.append(1)
        if len(runs) < 3:
            raise OSError(113)  # e.g. the network is unreachable
        while True:
            await sleep_ms(1000)

    assert not _run_until_reset(board, sup, ("network", flaky, False))
    assert len(runs) == 3 and board.resets == 0
    assert log.errors == [(logrec.ERR_TASK_FAILED, rescue.task_failure("network", OSError()))] * 2
    assert board.watchdog.feeds >= 2  # a failing non-critical task never holds the watchdog


def test_crashes_in_a_row_are_counted_and_a_long_good_run_starts_over():
    board = FakeBoard()
    scratch = board.scratch
    assert rescue.crash_count(scratch) == 0  # power-on: the words read zero
    assert rescue.note_crash(scratch, 30) == 1
    assert rescue.note_crash(scratch, 100) == 2
    assert rescue.note_crash(scratch, 5) == CRASH_LIMIT
    assert rescue.crash_count(scratch) == CRASH_LIMIT
    # A crash after more than the window of running time: a new streak.
    assert rescue.note_crash(scratch, 601)  # the window is 600 s == 1
    scratch.words = [0, 0, 0, 0]  # power loss
    assert rescue.crash_count(scratch) == 0
    assert rescue.note_crash(None, 0) == 1 and rescue.crash_count(None) == 0


def test_a_boot_failure_is_counted_and_resets_until_the_limit():
    board = FakeBoard()
    for count in range(1, CRASH_LIMIT + 1):
        rescue.boot_failed(board, OSError(5))
        assert rescue.crash_count(board.scratch) == count and board.resets == count
    # The app's halted state failed to start as well: stay put rather than boot-loop.
    rescue.boot_failed(board, OSError(5))
    assert board.resets == CRASH_LIMIT


def test_task_failure_names_the_task_and_the_exception_type():
    detail = rescue.task_failure("button", OSError(5))
    assert rescue.TASK_NAMES[detail >> 8] == "button"
    assert detail & 0xFF == 2  # OSError, as docs/log-format.md numbers the failures
    stalled = rescue.task_failure("schedule", None)
    assert stalled & 0xFF == 1  # stalled
    unknown = rescue.task_failure("no such task", KeyboardInterrupt())
    assert unknown == 0  # an unlisted task and exception type: both "?"
    # Fits the ERROR record's u16 detail.
    rec = logrec.encode(1, 2, logrec.ERROR, (logrec.ERR_TASK_FAILED, detail))
    assert logrec.decode_at(rec, 0, len(rec))[3] == (logrec.ERR_TASK_FAILED, detail)
