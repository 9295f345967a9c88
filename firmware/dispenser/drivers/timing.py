"""asyncio waits in milliseconds on MicroPython and CPython (which lacks the _ms forms)."""

import asyncio

try:
    sleep_ms = asyncio.sleep_ms  # type: ignore[attr-defined]
    wait_for_ms = asyncio.wait_for_ms  # type: ignore[attr-defined]
except AttributeError:  # CPython

    def sleep_ms(ms):
        return asyncio.sleep(ms / 1000)

    def wait_for_ms(awaitable, ms):
        return asyncio.wait_for(awaitable, ms / 1000)
