"""Timed waits (dispenser.timing): a wait ends at its event or at its timeout, and a
timeout the timers cannot take fails the caller at once. It never leaves the caller waiting
for ever, past every watchdog check-in (the sim's stall at reminders and cut-offs)."""

import asyncio

from dispenser.timing import sleep_ms, wait_for_ms


def _outcome(ms, set_after_ms=None):
    """How a wait_for_ms(event, ms) ended within 300 ms: set, timeout, refused or waiting."""

    async def scenario():
        event = asyncio.Event()
        outcome = []

        async def waiter():
            try:
                await wait_for_ms(event.wait(), ms)
                outcome.append("set")
            except asyncio.TimeoutError:
                outcome.append("timeout")
            except TypeError:
                outcome.append("refused")

        task = asyncio.create_task(waiter())
        if set_after_ms is not None:
            await sleep_ms(set_after_ms)
            event.set()
        await sleep_ms(300)
        if not outcome:
            task.cancel()
            outcome.append("waiting")
        return outcome[0]

    return asyncio.run(scenario())


def test_a_timed_wait_ends_at_its_event():
    assert _outcome(200, set_after_ms=10) == "set"


def test_a_timed_wait_ends_at_its_timeout():
    assert _outcome(20) == "timeout"


def test_a_timeout_with_a_fraction_of_a_millisecond_never_waits_for_ever():
    # MicroPython's timers take whole milliseconds: the caller is told (TypeError); CPython
    # takes the fraction. Either way the wait ends.
    assert _outcome(20.5) in ("timeout", "refused")
