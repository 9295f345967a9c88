"""asyncio sleeps in milliseconds on MicroPython and CPython (which lacks sleep_ms)."""

import asyncio

try:
    sleep_ms = asyncio.sleep_ms  # type: ignore[attr-defined]
except AttributeError:  # CPython

    def sleep_ms(ms):
        return asyncio.sleep(ms / 1000)
