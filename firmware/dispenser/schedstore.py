"""Keeps the installed schedule file: checked before use, replaced atomically.

A new schedule is written to a temporary file and renamed over the old one; littlefs and
POSIX both make the rename atomic, so after a power cut either the old or the new file is
in place, never a mix. A failed check or write leaves the old schedule untouched.

On the device this module and the check it runs (dispenser.core.schedule) are resident only
for a boot, a check, an install or a schedule.get (controller.SCHEDULE_CODE).
"""

from binascii import unhexlify

from dispenser.checkedfile import replace
from dispenser.core.nutrients import ABSOLUTE_CAPS

SCHEDULE_PATH = "schedule.json"  # where the installed schedule lives on the flash


def load(path):
    """The installed Schedule, or None if none was ever installed. A file that fails its
    check (it never should) raises ScheduleError, so the app can show an error."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return _parse(data)


def _parse(data):
    from dispenser.core import schedule

    return schedule.parse(data)


def install(path, data):
    """Check `data` and make it the installed schedule; returns the new Schedule.
    Raises ScheduleError (nothing changed) if the check fails, OSError if writing does."""
    checked = _parse(data)
    replace(path, data)  # atomic, read back before the switch
    return checked


def check(data):
    """The Schedule `data` would install, checked but not installed (ScheduleError if not)."""
    return _parse(data)


def read(path, off, size):
    """(up to `size` bytes of the file from `off`, the file's size); OSError if none."""
    with open(path, "rb") as f:
        f.seek(off)
        chunk = f.read(size)
        return chunk, f.seek(0, 2)


def bind(schedule, bound):
    """Whether the OVERRIDE_BOUND fields `bound` (None: none) confirm `schedule`. If they
    do not and it has overrides, it is held to the normal limits (docs/safety-rules.md)."""
    if bound is not None and bytes(bound[0]) == unhexlify(schedule.sha):
        return True
    if schedule.overrides:
        _normal_limits(schedule)
    return False


def _normal_limits(schedule):
    """Each daily cap at most the firmware's absolute cap, as in a schedule without
    overrides (in place; the engine reads the caps at each dose)."""
    caps = schedule.caps
    for code in range(len(caps)):
        absolute = ABSOLUTE_CAPS[code]
        if absolute is not None and caps[code] > absolute:
            caps[code] = absolute
