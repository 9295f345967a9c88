"""Shared start of the MicroPython bench drivers: the schedule, an engine restored from a
fresh log, and the first simulated day with the clock known."""

from dispenser import schedstore
from dispenser.core.engine import Engine
from dispenser.core.localtime import to_utc
from dispenser.logstore import LogStore


def start(schedule_path, log_dir, budget):
    """(schedule, engine, store, first day number, epoch seconds at its start)."""
    sched = schedstore.load(schedule_path)
    engine = Engine(sched)
    store = LogStore(log_dir, budget=budget, snapshot=engine.checkpoint)
    engine.restore(store.replay_records())
    first_day = sched.utc[0][0] // 86400 + 1
    engine.clock_known = True
    return sched, engine, store, first_day, to_utc(sched.utc, first_day, 0)
