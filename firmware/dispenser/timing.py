"""asyncio waits in milliseconds on MicroPython and CPython (which lacks the _ms forms).

`wait_for_ms(awaitable, ms)` is asyncio's wait_for with a timeout in milliseconds. On
MicroPython it is our own, cheaper one: asyncio's wraps the awaitable in a task and runs a
second task to watch it (about 1.3 KB on the 64-bit unix port, for as long as it waits),
and the idle app always has a few such waits pending (the button, the schedule's nap, a
blinking LED), and heap is what a Pico lacks (DESIGN.md, "Figures"). Ours awaits the
awaitable in the caller's own task and starts one small alarm task that cancels the
caller when the time is up; the caller's CancelledError becomes TimeoutError. A cancel
from elsewhere stays a CancelledError.
"""

import asyncio
import sys

if sys.implementation.name == "micropython":
    from dispenser.compat import ticks_add, ticks_diff, ticks_ms

    sleep_ms = asyncio.sleep_ms  # type: ignore[attr-defined]

    async def _alarm(task, deadline, pending):
        await sleep_ms(ticks_diff(deadline, ticks_ms()))
        pending.pop()  # empty: the cancel that follows is the timeout's
        task.cancel()

    async def wait_for_ms(awaitable, ms):
        # The deadline is taken here, in the caller's task: a timeout the timers cannot take
        # (a float) fails the caller at once. Taken in the alarm task, it would end only the
        # alarm, and the caller would wait for ever, past every check-in.
        deadline = ticks_add(ticks_ms(), ms)
        pending = []  # the alarm task, until it fires or the wait ends
        pending.append(asyncio.create_task(_alarm(asyncio.current_task(), deadline, pending)))
        try:
            return await awaitable
        except asyncio.CancelledError:
            if not pending:
                raise asyncio.TimeoutError  # noqa: B904 (the timeout, not the cancel)
            raise  # cancelled from elsewhere
        finally:
            if pending:
                pending.pop().cancel()

else:  # CPython

    def sleep_ms(ms):
        return asyncio.sleep(ms / 1000)

    def wait_for_ms(awaitable, ms):
        return asyncio.wait_for(awaitable, ms / 1000)
