"""Heap bytes allocated per wake-up and per log record, in MicroPython.

Usage: micropython bench/_mp_alloc_driver.py SCHEDULE LOGDIR DAYS (MICROPYPATH must reach
the compiled firmware). The engine runs the default schedule as _mp_sim_driver.py does;
with the collector off, gc.mem_alloc() deltas count every byte allocated: around each
wake-up (next_wake, tick and indication, what the app does each time it wakes) and around
each LogStore.append. Collections happen only between measurements. Prints one JSON line.
"""

import gc
import json
import sys

from _mp_engine_start import start

from dispenser.core import logrec
from dispenser.core.localtime import to_utc
from dispenser.logstore import DEFAULT_BUDGET

_PRESS_DELAY_MIN = 5
_WARM_DAYS = 2  # the first days fill caches (day plans, interned names): not steady state


class Meter:
    def __init__(self):
        self.bytes = 0
        self.count = 0
        self._start = 0

    def start(self):
        gc.collect()
        gc.disable()
        self._start = gc.mem_alloc()

    def stop(self, counting):
        used = gc.mem_alloc() - self._start
        gc.enable()
        if counting:
            self.bytes += used
            self.count += 1


def main(schedule_path, log_dir, days):
    sched, engine, store, first_day, now = start(schedule_path, log_dir, DEFAULT_BUDGET)
    wakes, records = Meter(), Meter()
    counting = False

    def log(events):
        for t, kind, fields in events:
            records.start()
            store.append(t, kind, fields)
            records.stop(counting)

    log([(now, logrec.BOOT, (logrec.BOOT_POWER_ON,))])  # the controller logs the boot
    log(engine.install(now, sched))
    for comp in sched.comps:
        log(engine.refill(now, comp.hopper, comp.capacity))
    for day in range(first_day, first_day + days):
        counting = day >= first_day + _WARM_DAYS
        for slot in sched.slots:
            press_at = to_utc(sched.utc, day, slot.at + _PRESS_DELAY_MIN)
            while True:
                wakes.start()
                wake = engine.next_wake(now)
                events = None
                if wake is not None and wake < press_at:
                    events = engine.tick(wake)
                    engine.indication(wake)
                wakes.stop(counting and events is not None)
                if events is None:
                    break
                now = wake
                log(events)
            now = press_at
            for comp in sched.comps:
                if engine.low_flags & (1 << comp.hopper):
                    log(engine.refill(now, comp.hopper, comp.capacity))
            log(engine.press(now))
    print(
        json.dumps(
            {
                "wakes": wakes.count,
                "wake_bytes": wakes.bytes,
                "records": records.count,
                "record_bytes": records.bytes,
            }
        )
    )


main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
