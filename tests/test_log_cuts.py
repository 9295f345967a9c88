"""Power cuts at every write of a press and of a schedule install (issue 8 items 5 and 6).

In-process (CPython): the real Controller, LogStore, schedstore and Engine on a fake board
whose servos do nothing, in a temporary directory. A cut is simulated by letting the first N
writes (log records, the schedule file, its rename) happen and failing the next one; a new
Controller then boots from what is on disk, as the board would after power returns.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "core"))

from coretools import DAY, at, bone_health_obj, schedule_bytes  # noqa: E402

from dispenser import checkedfile, schedstore  # noqa: E402
from dispenser import controller as controller_module  # noqa: E402
from dispenser.clock import Clock  # noqa: E402
from dispenser.controller import Controller  # noqa: E402
from dispenser.core import checkpoint, logrec  # noqa: E402
from dispenser.core.schedule import parse  # noqa: E402
from dispenser.logstore import LogStore  # noqa: E402


class Cut(BaseException):
    """The power went: nothing catches this, as nothing runs after a real cut."""


class _Pin:
    def value(self, v=None):
        return 1


class _Pwm:
    def freq(self, hz=None):
        return 50

    def duty_u16(self, v=None):
        return 0

    def duty_ns(self, v=None):
        return 0


class _Clock(Clock):
    def __init__(self, t):
        super().__init__()
        self.t = t

    def _read(self):
        return self.t

    def _write(self, t):
        self.t = t


class _Board:
    def __init__(self, t, budget):
        self.clock = _Clock(t)
        self.status_led = _Pin()
        self.compartment_leds = [_Pin(), _Pin(), _Pin()]
        self.buzzer_pwm = _Pwm()
        self.servo_pwms = [_Pwm(), _Pwm(), _Pwm()]
        self.servo_calibration = [(1000, 2000)] * 3
        self.drop_pin = None
        self.log_budget = budget
        self.reset_cause = "power"
        self.device_id = "c0770000000000001"  # an override confirmation names it


class Power:
    """Counts the durable writes and cuts the power before write number `cut_at`."""

    def __init__(self, monkeypatch, cut_at):
        self.cut_at = cut_at
        self.writes = 0
        self.on = True
        self.history = []  # every record that reached the flash, in order, across boots
        real_write = LogStore._write
        real_rename = checkedfile.os.rename

        def write(store, t, kind, fields):
            self._effect()
            seq = real_write(store, t, kind, fields)
            self.history.append((seq, t, kind, fields))
            return seq

        def rename(a, b):
            self._effect()
            real_rename(a, b)

        def open_file(path, mode="r", *args):
            if "w" in mode:
                self._effect()
            return open(path, mode, *args)

        monkeypatch.setattr(LogStore, "_write", write)
        monkeypatch.setattr(checkedfile.os, "rename", rename)
        monkeypatch.setattr(checkedfile, "open", open_file, raising=False)

    def _effect(self):
        if self.on and self.writes == self.cut_at:
            raise Cut
        self.writes += 1

    def run(self, step):
        """Run one step; True if the power was cut during it."""
        try:
            step()
        except Cut:
            return True
        finally:
            self.on = False  # the power stays on from here
        return False


async def _no_servo(servo, sensor, pills):
    return pills


@pytest.fixture
def flash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(controller_module, "deliver", _no_servo)
    return tmp_path


def _wipe(flash):
    """An empty flash for the next power-cut run."""
    for path in list(flash.iterdir()):
        if path.is_dir():
            for f in path.iterdir():
                f.unlink()
            path.rmdir()
        else:
            path.unlink()


def _three_dose_lunch():
    obj = bone_health_obj()
    obj["doses"].append({"comp": "ca", "days": 127, "id": "ca-lunch", "pills": 1, "slot": "lunch"})
    return schedule_bytes(obj)


def _outcomes(history, key):
    return [
        rec
        for rec in history
        if rec[2] in (logrec.DISPENSE, logrec.MISSED, logrec.REFUSED) and rec[3][0] == key
    ]


def _tick(c, t):
    c.clock.t = t
    c.tick(t)


@pytest.mark.parametrize("filler", range(8))
def test_a_cut_anywhere_in_a_press_leaves_each_dose_exactly_one_outcome(flash, monkeypatch, filler):
    # A tiny log (192-byte segments): rotations fall between the press's records for some
    # filler, and the sweep puts the cut on every write of boot, tick and press.
    data = _three_dose_lunch()
    s = parse(data)
    lunch = [d.key for d in s.doses if s.slots[d.slot].id == "lunch"]
    assert len(lunch) == 3
    t = at(s, DAY, 760)
    cut_at = 0
    while True:
        _wipe(flash)
        schedstore.install(schedstore.SCHEDULE_PATH, data)
        power = Power(monkeypatch, cut_at)
        board = _Board(t, 768)

        def first_life(board=board):
            c = Controller(board)
            c.boot()
            _tick(c, t)
            for _ in range(filler):
                c.append(t, logrec.BOOT, (2,))
            asyncio.run(c.press(False))

        cut = power.run(first_life)
        c = Controller(board)  # power back: boot from what is on flash
        c.boot()
        _tick(c, t + 60)
        asyncio.run(c.press(False))
        _tick(c, at(s, DAY, 1000))  # lunch is over: anything still pending is missed
        for key in lunch:
            outcomes = _outcomes(power.history, key)
            assert len(outcomes) == 1, (filler, cut_at, outcomes)
        if not cut:
            break
        cut_at += 1
    assert cut_at >= 6  # boot, schedule, reminder, three dispenses, checkpoints


def _schedule_b():
    obj = bone_health_obj()
    obj["name"] = "bone-health-b"
    obj["doses"].append(
        {"comp": "d3", "days": 127, "id": "d3-breakfast", "pills": 1, "slot": "breakfast"}
    )
    return schedule_bytes(obj)


def test_a_cut_anywhere_in_an_install_leaves_log_and_schedule_agreeing(flash, monkeypatch):
    a = (ROOT / "tests/data/device/bone-health.json").read_bytes()
    b = _schedule_b()
    s = parse(a)
    morning, afternoon = at(s, DAY, 300), at(s, DAY, 840)
    breakfast_d3 = logrec.id_key("d3-breakfast")
    cut_at = 0
    while True:
        _wipe(flash)
        schedstore.install(schedstore.SCHEDULE_PATH, a)
        board = _Board(morning, 65536)
        c = Controller(board)
        c.boot()
        _tick(c, afternoon)  # breakfast and lunch of schedule A are missed
        power = Power(monkeypatch, cut_at)
        cut = power.run(lambda c=c: c.install(b))

        c = Controller(board)  # power back
        c.clock.t = afternoon + 60
        c.boot()
        _tick(c, afternoon + 60)
        active = schedstore.load(schedstore.SCHEDULE_PATH)
        named = [r[3][0] for r in LogStore("log").records() if r[2] == logrec.SCHEDULE]
        assert named[-1] == active.hash_prefix(), (cut_at, named)
        assert c.engine.schedule_hash == active.hash_prefix()
        # B's breakfast dose had closed before B arrived: never due, so never missed.
        assert _outcomes(power.history, breakfast_d3) == [], cut_at
        if not cut:
            break
        cut_at += 1
    assert cut_at >= 3  # the temporary file, the rename, the SCHEDULE record


def test_a_failed_append_leaves_no_unwritten_dose_in_the_engine(flash, monkeypatch):
    # The flash refuses the second dispense record (EIO): the press fails, but the doses
    # whose records are not on flash stay due, and a later rotation cannot checkpoint them.
    data = _three_dose_lunch()
    s = parse(data)
    schedstore.install(schedstore.SCHEDULE_PATH, data)
    t = at(s, DAY, 760)
    c = Controller(_Board(t, 65536))
    c.boot()
    _tick(c, t)
    real_write = LogStore._write
    dispenses = []

    def failing(store, when, kind, fields):
        if kind == logrec.DISPENSE:
            dispenses.append(fields[0])
            if len(dispenses) == 2:
                raise OSError(5)
        return real_write(store, when, kind, fields)

    monkeypatch.setattr(LogStore, "_write", failing)
    with pytest.raises(OSError):
        asyncio.run(c.press(False))
    lunch = [d.key for d in s.doses if s.slots[d.slot].id == "lunch"]
    assert [key for key in lunch if key in c.engine.resolved] == [dispenses[0]]
    assert [key for key, how in checkpoint.unpack(c.engine.checkpoint())[5] if how == 1] == [
        dispenses[0]
    ]
    asyncio.run(c.press(False))
    written = [r[3][0] for r in LogStore("log").records() if r[2] == logrec.DISPENSE]
    assert sorted(written) == sorted(lunch)
