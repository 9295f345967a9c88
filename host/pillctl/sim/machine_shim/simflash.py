# The simulated board's flash faults and power cuts (MicroPython, sim only; see docs/sim.md).
#
# The runner arms them through the board's input FIFO (boards/sim.py passes the words on):
# - `fault flash ERRNO N`: the next N write() calls to a file raise OSError(ERRNO), as
#   littlefs does when the flash is full (ENOSPC) or fails (EIO);
# - `cut write PATH FRACTION`: the next write() to a file whose path contains PATH writes
#   only int(len * FRACTION) bytes of its data, then the power is cut: an append torn in
#   the middle of a record;
# - `cut rename PATH FRACTION`: the next rename whose source or target contains PATH is cut
#   just before it (FRACTION < 0.5: the old file stays) or just after it (the new one).
# After a cut the board reports `sim cut ...` on the trace and stops; the runner kills it.
# Nothing is wrapped while nothing is armed, so an unarmed board runs at full speed; the board
# imports this module (and installs the open() wrapper) only when the first one is armed.
import builtins
import os
import time

_real_open = builtins.open
_fault_errno = 0
_fault_count = 0
_cut = None  # (step, path part, fraction)


def arm(words):
    """Words from the runner: `fault flash ERRNO N` or `cut write|rename PATH FRACTION`."""
    global _fault_errno, _fault_count, _cut
    if words[0] == "fault":
        _fault_errno, _fault_count = int(words[2]), int(words[3])
    else:
        _cut = (words[1], words[2], float(words[3]))


def install():
    builtins.open = _open


def _open(path, mode="r", *args):
    f = _real_open(path, mode, *args)
    if (_fault_count or _cut) and ("w" in mode or "a" in mode or "+" in mode):
        return _FlashFile(f, path, mode)
    return f


def _cut_here(detail):
    with _real_open(os.getenv("PILLCTL_SIM_OUT") or "", "w") as out:
        out.write("sim %d - cut %s\n" % (time.ticks_ms(), detail))
    while True:  # the power is gone: nothing more happens until the runner kills us
        time.sleep(1)


def _take_cut(step, *paths):
    global _cut
    cut = _cut
    if cut is None or cut[0] != step:
        return None
    for path in paths:
        if cut[1] in path:
            _cut = None
            return cut[2]
    return None


def rename(real_rename, src, dst):
    fraction = _take_cut("rename", src, dst)
    if fraction is None:
        real_rename(src, dst)
        return
    if fraction < 0.5:
        _cut_here("rename %s %s before" % (src, dst))
    real_rename(src, dst)
    _cut_here("rename %s %s after" % (src, dst))


class _FlashFile:
    """A file open for writing on the simulated flash, while a fault or a cut is armed."""

    def __init__(self, f, path, mode):
        self._f = f
        self._path = path
        self._append = "a" in mode

    def write(self, data):
        global _fault_count
        if _fault_count:
            _fault_count -= 1
            raise OSError(_fault_errno)
        fraction = _take_cut("write", self._path)
        if fraction is None:
            return self._f.write(data)
        offset = os.stat(self._path)[6] if self._append else self._f.tell()
        kept = int(len(data) * fraction)
        self._f.write(memoryview(data)[:kept])
        self._f.close()
        _cut_here("write %s %d %d %d" % (self._path, offset, kept, len(data)))

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)
