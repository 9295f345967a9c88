"""Runs the default schedule through the engine and the log store, in MicroPython.

Usage: micropython bench/_mp_sim_driver.py SCHEDULE LOGDIR DAYS BUDGET
(MICROPYPATH must reach firmware/). Time advances event by event with next_wake, like the
app's sleep; the person presses 5 minutes after every slot time and refills a hopper to
capacity at the first meal after its low-stock warning. Prints one JSON line with the
figures. Run by bench/engine_figures.py.
"""

import json
import sys

from _mp_engine_start import start

from dispenser.core import logrec
from dispenser.core.localtime import to_utc

_PRESS_DELAY_MIN = 5


def press_times(sched, first_day, days):
    for day in range(first_day, first_day + days):
        for slot in sched.slots:
            yield to_utc(sched.utc, day, slot.at + _PRESS_DELAY_MIN)


def main(schedule_path, log_dir, days, budget):
    sched, engine, store, first_day, now = start(schedule_path, log_dir, budget)
    written = 0

    def log(events):
        total = 0
        for t, kind, fields in events:
            store.append(t, kind, fields)
            total += logrec.OVERHEAD + logrec.payload_size(kind, fields)
        return total

    written += log([(now, logrec.BOOT, (logrec.BOOT_POWER_ON,))])
    written += log(engine.install(now, sched))
    for comp in sched.comps:
        written += log(engine.refill(now, comp.hopper, comp.capacity))
    for press_at in press_times(sched, first_day, days):
        while True:
            wake = engine.next_wake(now)
            if wake is None or wake >= press_at:
                break
            now = wake
            written += log(engine.tick(now))
        now = press_at
        for comp in sched.comps:
            if engine.low_flags & (1 << comp.hopper):
                written += log(engine.refill(now, comp.hopper, comp.capacity))
        written += log(engine.press(now))
    info = store.info()
    print(json.dumps({"written": written, "records": info["last"], "stored": info["bytes"]}))


main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
