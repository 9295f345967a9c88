"""CPython stand-ins for MicroPython's `const` and `ticks_*` (never deployed to a board).

Ticks wrap at 2**30 like the ports' small-int ticks, so wrap-around bugs show up under
pytest too.
"""

import time
import traceback

_TICKS_PERIOD = 1 << 30
_TICKS_HALF = _TICKS_PERIOD // 2


def const(expr):
    return expr


def print_exception(exc):
    traceback.print_exception(exc)


def ticks_ms():
    return int(time.monotonic() * 1000) & (_TICKS_PERIOD - 1)


def ticks_add(ticks, delta):
    return (ticks + delta) % _TICKS_PERIOD


def ticks_diff(end, start):
    return ((end - start + _TICKS_HALF) % _TICKS_PERIOD) - _TICKS_HALF


def unload(names):
    """Nothing to free under CPython; the host keeps these modules (see compat.unload)."""
