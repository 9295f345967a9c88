"""The servo calibration and last self-test files: checked, atomic, bounded; a damaged or
out-of-bounds file is told apart from a missing one and never read as other numbers."""

from coretools import remove_tree, temp_dir
from supervisetools import FakePwm

from dispenser import checkedfile, setupfiles
from dispenser.drivers.delivery import Servo


def _servo(rest, drop):
    return Servo(FakePwm(), rest, drop)


def _servos():
    return [_servo(620, 2380), _servo(700, 2300), _servo(500, 2500)]


def _rejected(path):
    try:
        setupfiles.load(path)
    except setupfiles.CalibrationError as exc:
        return exc.args[0]
    raise AssertionError("a bad calibration file was accepted")


def test_calibration_round_trip_and_apply():
    root = temp_dir()
    try:
        path = root + "/servo.cal"
        assert setupfiles.load(path) is None
        setupfiles.save(_servos(), path)
        pairs = setupfiles.load(path)
        assert pairs == [(620, 2380), (700, 2300), (500, 2500)]
        servos = [_servo(600, 2400) for _ in range(3)]
        setupfiles.apply(servos, pairs)
        assert [(s.rest_us, s.drop_us, s.position_us) for s in servos] == [
            (620, 2380, 620), (700, 2300, 700), (500, 2500, 500),
        ]  # fmt: skip
    finally:
        remove_tree(root)


def test_every_flipped_byte_and_every_cut_is_rejected_as_damaged():
    root = temp_dir()
    try:
        path = root + "/servo.cal"
        setupfiles.save(_servos(), path)
        with open(path, "rb") as f:
            good = f.read()
        assert len(good) == 20
        for i in range(len(good)):
            bad = bytearray(good)
            bad[i] ^= 0x10
            with open(path, "wb") as f:
                f.write(bad)
            assert _rejected(path) == setupfiles.DAMAGED
        for size in range(len(good)):
            with open(path, "wb") as f:
                f.write(good[:size])
            assert _rejected(path) == setupfiles.DAMAGED
    finally:
        remove_tree(root)


def test_a_checked_width_out_of_bounds_is_rejected_and_never_saved():
    root = temp_dir()
    try:
        path = root + "/servo.cal"
        # A file whose CRC checks out but holds 2600 us: written around setupfiles.save.
        checkedfile.write(path, "<4s6H", (b"CAL1", 600, 2600, 600, 2400, 600, 2400))
        assert _rejected(path) == setupfiles.OUT_OF_BOUNDS
        servos = _servos()
        servos[1].drop_us = 499
        try:
            setupfiles.save(servos, path)
            raise AssertionError("saved a width below 500 us")
        except ValueError as exc:
            assert "500 to 2500" in str(exc)
        assert _rejected(path) == setupfiles.OUT_OF_BOUNDS  # the old file stays
    finally:
        remove_tree(root)


def test_check_us_names_the_argument_and_refuses_non_integers():
    assert setupfiles.check_us("rest", 500) == 500
    assert setupfiles.check_us("drop", 2500) == 2500
    for bad in (499, 2501, True, "600", 600.0, None):
        try:
            setupfiles.check_us("rest", bad)
            raise AssertionError("accepted %r" % (bad,))
        except ValueError as exc:
            assert str(exc).startswith("rest must be")


def test_last_selftest_round_trip_and_damage_reads_as_none():
    root = temp_dir()
    try:
        path = root + "/selftest.bin"
        assert setupfiles.load_selftest(path) is None
        setupfiles.save_selftest((1_800_000_000, 0x1FFF, 0), path)
        assert setupfiles.load_selftest(path) == (1_800_000_000, 0x1FFF, 0)
        with open(path, "r+b") as f:
            f.write(b"\xff")
        assert setupfiles.load_selftest(path) is None
    finally:
        remove_tree(root)
