"""The few MicroPython names the pure core needs, also under CPython.

The core imports `const`, `print_exception` and the `ticks_*` helpers from here so that the
same source runs on the Pico, on the unix port and under CPython (pytest, the host's log
reader).

`Transient(names)` is the one way the firmware keeps code off the heap: the modules `names`
are resident only inside `with` blocks over it. On a Pico a module's bytecode lives in the
heap for as long as the module is in sys.modules or any of its functions is reachable, and
the stock firmware has no ROMFS; the measurements say where unloading pays (DESIGN.md,
"Figures"): the boot path (boot, the schedule check and its file store, the set-up files,
9.5 KB), the rescue path (1.8 KB), the rare serial commands (setupcmds, servicecmds,
about 3 KB of .mpy each) and the CHECKPOINT record's code (1.8 KB, for a replay and a log
rotation only). Nowhere else: lazy imports that save under 1 KB cost clarity for
nothing. The caller must hold nothing defined in those modules afterwards (no function, no
instance of a class with methods): that would keep the whole module alive, as every
function refers to its module's globals. Under CPython it does
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


class Transient:
    """Modules resident only while a `with` block over this runs: import them inside it.
    Nested blocks share one load; the last to end unloads them, unless `keep()` (when
    given) says they are still in use."""

    def __init__(self, names, keep=None):
        self.names = names
        self.keep = keep
        self._users = 0

    def __enter__(self):
        self._users += 1
        return self

    def __exit__(self, *exc):
        self._users -= 1
        if not self._users and not (self.keep is not None and self.keep()):
            unload(self.names)


__all__ = ["Transient", "const", "print_exception", "ticks_add", "ticks_diff", "ticks_ms"]
