"""The few MicroPython names the pure core needs, also under CPython.

The core imports `const`, `print_exception` and the `ticks_*` helpers from here so that the
same source runs on the Pico, on the unix port and under CPython (pytest, the host's log
reader).
"""

try:
    from sys import print_exception  # pyright: ignore[reportAttributeAccessIssue]
    from time import ticks_add, ticks_diff, ticks_ms

    from micropython import const
except ImportError:  # CPython: stand-ins with the same semantics
    from dispenser.cpython_shim import const, print_exception, ticks_add, ticks_diff, ticks_ms

__all__ = ["const", "print_exception", "ticks_add", "ticks_diff", "ticks_ms"]
