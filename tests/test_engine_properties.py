"""Property tests (CPython only): whatever the presses, clock steps and restarts, the
engine keeps DESIGN.md's safety invariants.

A simulated device runs the real engine on the real LogStore (a small budget, so the log
rotates and checkpoints are replayed); a restart rebuilds the engine from the log only.
The invariants are checked on the full history of emitted events, which the rotating log
does not keep.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "core"))

from coretools import DAY, at, parse  # noqa: E402

from dispenser.core import localtime, logrec  # noqa: E402
from dispenser.core.engine import Engine  # noqa: E402
from dispenser.logstore import LogStore  # noqa: E402


def _stress_schedule():
    """bone-health plus a second D3 dose (so the cap bites), a morning levothyroxine
    reminder with CA-LEVO spacing, and a weekday-only K2."""
    obj = json.loads((ROOT / "tests/data/device/bone-health.json").read_bytes())
    obj["slots"].insert(0, {"at": 360, "early": 0, "fat": 0, "id": "levo", "late": 45, "meal": 0})
    obj["items"] = [
        {"days": 127, "id": "levo", "med": "levothyroxine", "name": "L", "slot": "levo"}
    ]
    obj["spacing"] = [{"gap": 240, "item": "levo", "nut": "ca", "rule": "CA-LEVO"}]
    obj["doses"].append(
        {"comp": "d3", "days": 127, "id": "d3-dinner", "pills": 1, "slot": "dinner"}
    )
    obj["doses"][2]["days"] = 0b0011111
    return parse(obj)


SCHEDULE = _stress_schedule()
DOSES = {d.key: d for d in SCHEDULE.doses}
LEVO = logrec.id_key("levo")


class Device:
    def __init__(self, root: str) -> None:
        self.root = root
        self.now = at(SCHEDULE, DAY, 300)
        self.clock_ok = True
        self.history: list[tuple] = []  # (t, kind, fields, clock known when emitted)
        self.boot()

    def boot(self) -> None:
        self.engine = Engine(SCHEDULE)
        self.store = LogStore(self.root, budget=2048, segments=4, snapshot=self.engine.checkpoint)
        self.engine.restore(self.store.records())
        self.engine.clock_known = self.clock_ok
        self.log([(self.now, logrec.BOOT, (logrec.BOOT_WATCHDOG,))])

    def log(self, events) -> None:
        for t, kind, fields in events:
            self.history.append((t, kind, fields, self.engine.clock_known))
            self.store.append(t, kind, fields)

    def advance(self, minutes: int) -> None:
        end = self.now + minutes * 60
        while True:  # the app sleeps until next_wake, as on the device
            wake = self.engine.next_wake(self.now)
            if wake is None or wake > end:
                break
            self.now = wake
            self.log(self.engine.tick(self.now))
        self.now = end
        self.log(self.engine.tick(self.now))

    def run(self, action) -> None:
        name = action[0]
        if name == "advance":
            self.advance(action[1])
        elif name == "press":
            self.log(self.engine.press(self.now, long=action[1]))
        elif name == "restart":
            self.clock_ok = action[1]
            self.boot()
        elif name == "clock_step":
            previous = self.now
            self.now += action[1] * 60
            self.clock_ok = True
            self.log(self.engine.clock_set(self.now, previous))
        elif name == "refill":
            self.log(self.engine.refill(self.now, action[1], action[2]))
        elif name == "jam":
            dispensed = [h for h in self.history if h[1] == logrec.DISPENSE]
            if dispensed:
                key, packed = dispensed[-1][2][:2]
                self.log(self.engine.jammed(self.now, key, packed & 15, 0))


ACTIONS = st.one_of(
    st.tuples(st.just("advance"), st.integers(1, 720)),
    st.tuples(st.just("press"), st.booleans()),
    st.tuples(st.just("press"), st.just(False)),
    st.tuples(st.just("restart"), st.booleans()),
    st.tuples(st.just("clock_step"), st.integers(-2880, 2880)),
    st.tuples(st.just("refill"), st.integers(0, 2), st.integers(0, 20)),
    st.tuples(st.just("jam")),
)


def check_invariants(history) -> None:
    seen: set[tuple[int, int]] = set()
    missed: set[tuple[int, int]] = set()
    totals: dict[tuple[int, int], int] = {}
    confirms: list[int] = []
    for t, kind, fields, clock_known in history:
        day = localtime.local_day(SCHEDULE.utc, t)
        if kind == logrec.MISSED:
            missed.add((fields[0], day))
        elif kind == logrec.CONFIRM:
            confirms.append(t)
        elif kind == logrec.DISPENSE:
            key, packed, pills, amount = fields
            dose = DOSES[key]
            instance = (key, day)
            assert clock_known, "dispensed with an unknown clock"
            assert instance not in seen, "dose instance dispensed twice"
            assert instance not in missed, "a missed dose was dispensed later"
            assert pills == dose.pills and amount == dose.amount, "dose changed size"
            seen.add(instance)
            nut = packed >> 4
            totals[(day, nut)] = totals.get((day, nut), 0) + amount
            assert totals[(day, nut)] <= SCHEDULE.caps[nut], "daily cap exceeded"
            minute = localtime.minutes_into(SCHEDULE.utc, day, t)
            assert minute >= SCHEDULE.slots[dose.slot].opens, "dispensed before the window"
            if nut == 1:  # calcium: CA-LEVO spacing from the actual confirmation
                assert all(not c <= t < c + 240 * 60 for c in confirms), "spacing violated"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=1, max_size=80))
def test_no_sequence_of_events_breaks_the_safety_invariants(actions) -> None:
    root = tempfile.mkdtemp(prefix="dispenser-prop-")
    try:
        device = Device(root + "/log")
        for action in actions:
            device.run(action)
        check_invariants(device.history)
    finally:
        shutil.rmtree(root)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 1439), max_size=12), st.integers(0, 6))
def test_pressing_every_day_gives_each_dose_once_and_only_in_its_window(minutes, days) -> None:
    root = tempfile.mkdtemp(prefix="dispenser-prop-")
    try:
        device = Device(root + "/log")
        for day in range(DAY, DAY + days + 1):
            for minute in sorted(minutes):
                device.now = max(device.now, at(SCHEDULE, day, minute))
                device.log(device.engine.press(device.now))
        check_invariants(device.history)
    finally:
        shutil.rmtree(root)


def test_check_invariants_catches_a_double_dispense() -> None:
    # The checker itself must be able to fail.
    t = at(SCHEDULE, DAY, 450)
    event = (t, logrec.DISPENSE, (logrec.id_key("ca-breakfast"), 2 | 1 << 4, 1, 250), True)
    try:
        check_invariants([event, event])
    except AssertionError:
        return
    raise AssertionError("double dispense not caught")
