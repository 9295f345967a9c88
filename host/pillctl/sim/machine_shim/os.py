# The simulated board's `os` (MicroPython): the unix port's, with rename going through the
# flash model (simflash) so that a power cut can land just before or after it. `os` is an
# extensible built-in, so this file on the sim's MICROPYPATH extends it; see machine.py.
# simflash is loaded only once the runner arms a fault or a cut (boards/sim.py), so an
# unarmed board's heap holds no flash model, as a Pico's holds none.
import sys

from uos import *  # noqa: F403  # pyright: ignore[reportAssignmentType]  (rename: ours)
from uos import rename as _rename


def rename(src, dst):
    flash = sys.modules.get("simflash")
    if flash is None:
        _rename(src, dst)
    else:
        flash.rename(_rename, src, dst)
