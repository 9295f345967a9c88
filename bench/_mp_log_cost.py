"""CPU cost of the log on the MicroPython unix port: boot's open + replay, and log.read.

Usage: micropython bench/_mp_log_cost.py SCHEDULE LOGDIR (MICROPYPATH must reach the
firmware). Prints one JSON line: `boot_us` (LogStore opened, the engine restored from it:
what boot does before `hello`), `read_first_us` and `read_last_us` (the mean of the first and
of the last 5 requests of a sequential pull in 2 KB replies, like `pillctl logs`), and
`requests`. Run by bench/log_year.py.
"""

import json
import sys
import time

from dispenser import schedstore
from dispenser.engine import Engine
from dispenser.logstore import LogStore

_CHUNK = 2048


def main(schedule_path, log_dir):
    sched = schedstore.load(schedule_path)
    started = time.ticks_us()
    engine = Engine(sched)
    store = LogStore(log_dir, snapshot=engine.checkpoint)
    replay = getattr(store, "replay_records", store.records)  # the firmware before issue 8
    engine.restore(replay())
    _ = store.last_seq
    boot_us = time.ticks_diff(time.ticks_us(), started)
    costs = []
    since = 0
    while since < store.last_seq:
        started = time.ticks_us()
        _, since = store.read_since(since, _CHUNK)
        costs.append(time.ticks_diff(time.ticks_us(), started))
    print(
        json.dumps(
            {
                "boot_us": boot_us,
                "read_first_us": sum(costs[:5]) // len(costs[:5]),
                "read_last_us": sum(costs[-5:]) // len(costs[-5:]),
                "requests": len(costs),
            }
        )
    )


main(sys.argv[1], sys.argv[2])
