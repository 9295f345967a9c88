"""The few MicroPython names the pure core needs, also under CPython.

The core imports `const`, `print_exception` and the `ticks_*` helpers from here so that the
same source runs on the Pico, on the unix port and under CPython (pytest, the host's log
reader).

`unload(names)` forgets modules that only boot, an install or a failure needs (the schedule
check, its file store): on a Pico a module's bytecode lives in the heap for as long as the
module is in sys.modules or any of its functions is reachable, so such code stays
resident only while it runs (DESIGN.md, "Figures": unload only what the measurements show
pays). The caller must hold nothing defined in those
modules afterwards (no function, no instance of a class with methods): that would keep the
whole module alive, as every function refers to its module's globals. Under CPython it does
nothing: the host imports these modules for good and relies on their classes staying the
same objects.
"""

try:
    import gc
    import sys
    from sys import print_exception  # pyright: ignore[reportAttributeAccessIssue]
    from time import ticks_add, ticks_diff, ticks_ms

    from micropython import const

    def unload(names):
        """Drop the modules `names` (full dotted names) from sys.modules and their parent
        package, then collect, so their bytecode and globals are freed."""
        for name in names:
            if sys.modules.pop(name, None) is None:
                continue
            dot = name.rfind(".")
            parent = sys.modules.get(name[:dot]) if dot > 0 else None
            if parent is not None and hasattr(parent, name[dot + 1 :]):
                delattr(parent, name[dot + 1 :])
        gc.collect()

except ImportError:  # CPython: stand-ins with the same semantics
    from dispenser.cpython_shim import (
        const,
        print_exception,
        ticks_add,
        ticks_diff,
        ticks_ms,
        unload,
    )

__all__ = ["const", "print_exception", "ticks_add", "ticks_diff", "ticks_ms", "unload"]
