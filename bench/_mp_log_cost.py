"""CPU cost of the log on the MicroPython unix port: boot's open + replay, and log.read.

Usage: micropython bench/_mp_log_cost.py SCHEDULE LOGDIR (MICROPYPATH must reach the
firmware). Prints one JSON line: `boot_us` (LogStore opened, the engine restored from it:
what boot does before `hello`), `read_first_us` and `read_last_us` (the mean of the first and
of the last 5 requests of a sequential pull in 2 KB replies, like `pillctl logs`: the log
store's read), `request_first_us` and `request_last_us` (the same requests whole: the
`log.read` handler and its reply frame written to a stream that drops it), `status_us`
(a `status` request the same way, at noon of the log's last day: the fastest of 5) and
`requests`. Run by bench/log_year.py.
"""

import json
import sys
import time

from dispenser import schedstore
from dispenser.commands import Commands
from dispenser.core import protocol
from dispenser.core.engine import Engine
from dispenser.logstore import LogStore

_CHUNK = 2048


class _Sink:
    """The serial port's write, minus the port."""

    def write(self, data):
        return len(data)


class _Clock:
    def __init__(self, now):
        self._now = now

    def is_set(self):
        return True

    def now(self):
        return self._now


class _App:
    """What Commands(app) reads of the app and its board, for log.read and status."""

    halted = False
    name = "bench"
    device_id = "0"
    reset_cause = "power"
    pending = None
    confirmed_at = None
    overrides_applied = True
    last_selftest = None

    def __init__(self, store, engine, now):
        self.controller = self
        self.board = self
        self.store = store
        self.engine = engine
        self.clock = _Clock(now)
        self.servos = [_Servo() for _ in range(3)]


class _Servo:
    """A servo's calibration, as status reports it."""

    rest_us = 600
    drop_us = 2400


def _mean_ends(costs):
    return sum(costs[:5]) // len(costs[:5]), sum(costs[-5:]) // len(costs[-5:])


def main(schedule_path, log_dir):
    sched = schedstore.load(schedule_path)
    started = time.ticks_us()
    engine = Engine(sched)
    store = LogStore(log_dir, snapshot=engine.checkpoint)
    engine.restore(store.replay_records())
    _ = store.last_seq
    boot_us = time.ticks_diff(time.ticks_us(), started)
    reads = []
    since = 0
    while since < store.last_seq:
        started = time.ticks_us()
        _, since = store.read_since(since, _CHUNK)
        reads.append(time.ticks_diff(time.ticks_us(), started))
    last_t = 0
    for rec in store.replay_records():
        last_t = rec[1]
    now = last_t - last_t % 86400 + 43200  # noon UTC of the last day
    commands = Commands(_App(store, engine, now))
    sink = _Sink()
    requests = []
    since = 0
    more = True
    while more:
        started = time.ticks_us()
        reply = commands.log_read({"since": since, "max": _CHUNK})
        protocol.write(sink, 7, "ok", reply)
        requests.append(time.ticks_diff(time.ticks_us(), started))
        since, more = reply["last"], reply["more"]
    status = []
    for _ in range(5):
        started = time.ticks_us()
        protocol.write(sink, 7, "ok", commands.status({}))
        status.append(time.ticks_diff(time.ticks_us(), started))
    read_first, read_last = _mean_ends(reads)
    request_first, request_last = _mean_ends(requests)
    print(
        json.dumps(
            {
                "boot_us": boot_us,
                "read_first_us": read_first,
                "read_last_us": read_last,
                "request_first_us": request_first,
                "request_last_us": request_last,
                "status_us": min(status),
                "requests": len(reads),
            }
        )
    )


main(sys.argv[1], sys.argv[2])
