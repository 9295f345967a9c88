"""The device's set-up files: each hopper's servo calibration and the last self-test.

Calibration (docs/hardware.md).
The rest and drop pulse widths of the three servos live in `servo.cal`, a checked file
(dispenser.checkedfile), not in code: `pillctl calibrate` writes it and the servos use it
from their next movement on, with no reflash; `pillctl flash` leaves it in place. Boot
applies it over the board's defaults; a damaged file, or one with a pulse width outside
MIN_US..MAX_US, is rejected (an ERROR record, logrec.ERR_CALIBRATION_REJECTED) and the
defaults stay.

The last self-test (`pillctl selftest`): its time and the masks of the steps that passed
and failed, in `selftest.bin`, so that status shows it after a restart too; the log's
SELFTEST record is the record.

Loaded only by boot and the self-test and calibrate commands, then unloaded.
"""

from dispenser import checkedfile
from dispenser.compat import const
from dispenser.core.protocol import int_arg
from dispenser.drivers.delivery import MAX_US, MIN_US

PATH = "servo.cal"
SELFTEST_PATH = "selftest.bin"
_SELFTEST_FORMAT = "<IHH"  # UTC time, steps passed, steps failed
_FORMAT = "<4s6H"  # magic, then rest and drop of hoppers 0, 1, 2
_MAGIC = b"CAL1"
DAMAGED = const(1)  # ERR_CALIBRATION_REJECTED details
OUT_OF_BOUNDS = const(2)


class CalibrationError(ValueError):
    """The file is rejected; args[0] is DAMAGED or OUT_OF_BOUNDS."""


def load(path=PATH):
    """[(rest, drop)] per hopper from the file, or None without one; CalibrationError when
    it is damaged or out of bounds."""
    try:
        values = checkedfile.read(path, _FORMAT)
    except checkedfile.DamagedError:
        raise CalibrationError(DAMAGED)
    if values is None:
        return None
    if values[0] != _MAGIC:
        raise CalibrationError(DAMAGED)
    for us in values[1:]:
        if not MIN_US <= us <= MAX_US:
            raise CalibrationError(OUT_OF_BOUNDS)
    return [(values[1], values[2]), (values[3], values[4]), (values[5], values[6])]


def check_us(name, us):
    """`us` if it is a whole pulse width within the servo's safe range; ValueError naming
    `name` if not (the request arguments' own check, dispenser.core.protocol.int_arg)."""
    return int_arg({name: us}, name, MIN_US, MAX_US)


def save(servos, path=PATH):
    """Store the rest and drop pulse widths the three servos use now."""
    values: list = [_MAGIC]
    for servo in servos:
        values.append(check_us("rest", servo.rest_us))
        values.append(check_us("drop", servo.drop_us))
    checkedfile.write(path, _FORMAT, values)


def apply(servos, pairs):
    """At boot, before any movement: the servos take the stored pulse widths."""
    for servo, (rest, drop) in zip(servos, pairs):
        servo.calibrate(rest, drop, True)


def load_selftest(path=SELFTEST_PATH):
    """(t, passed, failed) of the last self-test, or None (never run, or the file damaged:
    the log still has its record)."""
    try:
        return checkedfile.read(path, _SELFTEST_FORMAT)
    except checkedfile.DamagedError:
        return None


def save_selftest(result, path=SELFTEST_PATH):
    checkedfile.write(path, _SELFTEST_FORMAT, result)
