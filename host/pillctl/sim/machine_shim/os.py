# The simulated board's `os` (MicroPython): the unix port's, with rename going through the
# flash model (simflash) so that a power cut can land just before or after it. `os` is an
# extensible built-in, so this file on the sim's MICROPYPATH extends it; see machine.py.
# simflash is loaded only once the runner arms a fault or a cut (boards/sim.py), and the
# rest of `uos` is reached through __getattr__ rather than copied into this module: a Pico's
# heap holds neither, so the sim's heap figures stay the firmware's own.
import sys

import uos
from uos import rename as _rename


def __getattr__(name):
    return getattr(uos, name)


def rename(src, dst):
    flash = sys.modules.get("simflash")
    if flash is None:
        _rename(src, dst)
    else:
        flash.rename(_rename, src, dst)
