"""The few MicroPython names the pure core needs, also under CPython.

The core imports `const` and the `ticks_*` helpers from here so that the same source runs on
the Pico, on the unix port and under CPython (pytest, the host's log reader).
"""

try:
    from time import ticks_add, ticks_diff, ticks_ms

    from micropython import const
except ImportError:  # CPython: stand-ins with the same semantics
    from dispenser.cpython_shim import const, ticks_add, ticks_diff, ticks_ms

__all__ = ["const", "ticks_add", "ticks_diff", "ticks_ms"]
