# The simulated board's `os` (MicroPython): the unix port's, with rename going through the
# flash model (simflash) so that a power cut can land just before or after it. `os` is an
# extensible built-in, so this file on the sim's MICROPYPATH extends it; see machine.py.
import simflash
from uos import *  # noqa: F403
from uos import rename as _rename


def rename(src, dst):
    simflash.rename(_rename, src, dst)
