"""The device's serial commands (docs/protocol.md): one method per verb.

A handler takes the request's argument object and returns the reply object, or a coroutine
for the few that wait (dispense.test). ValueError means bad arguments and RefusedError a
refusal; both leave the state as it was.
"""

import gc

from dispenser import PROTOCOL_VERSION, VERSION
from dispenser.compat import Transient
from dispenser.core import engine, forecast, logrec
from dispenser.core.localtime import local_day
from dispenser.core.protocol import MAX_CHUNK, b64, int_arg

# The commands that change the device's set-up or move it outside the schedule, and the
# bench commands, are rare: their code (about 3 KB of .mpy each) is resident only while a
# request runs (awaited inside the `with`: a waiting command's coroutine still runs that
# code), the set-up commands' also while a schedule upload is in progress, the bench
# commands' while a calibration is open (its idle watch is a task of that module).


class Commands:
    def __init__(self, app):
        self.app = app
        self.board = app.board
        self.controller = app.controller
        # The state of the requests that span several (dispenser.setupcmds, servicecmds)
        self.upload = None  # bytearray of a schedule upload in progress
        self.upload_sha = None
        self.confirming = None  # the last dispenser.confirm.Confirmation started
        self.calibrating = None  # [hopper, ticks of its last step, its arbiter Wait]
        self.status_sections = []  # (name, function) adding a section to `status`
        self._setup_code = Transient(("dispenser.setupcmds",), self._uploading)
        self._service_code = Transient(("dispenser.servicecmds",), self._calibrating)
        self.table = {
            "hello": self.hello,
            "status": self.status,
            "time.set": self.time_set,
            "schedule.put": self.schedule_put,
            "schedule.get": self.schedule_get,
            "log.info": self.log_info,
            "log.read": self.log_read,
            "refill": self.refill,
            "identify": self.identify,
            "dispense.test": self.dispense_test,
            "selftest": self.selftest,
            "calibrate": self.calibrate,
            "maintenance": self.maintenance,
        }

    def add(self, verb, handler):
        """A command more (App.add_command): `handler(args)` answers `verb`."""
        if verb in self.table:
            raise ValueError("command %s exists" % verb)
        self.table[verb] = handler

    def add_status(self, name, section):
        """`status` replies carry `name`: `section()`'s object (App.add_status)."""
        self.status_sections.append((name, section))

    def hello(self, args):
        board = self.board
        return {
            "proto": PROTOCOL_VERSION,
            "fw": VERSION,
            "board": board.name,
            "id": board.device_id,
            "clock": "set" if board.clock.is_set() else "unknown",
            "t": board.clock.now(),
            "reset": board.reset_cause,
        }

    def status(self, args):
        reply = self.hello(args)
        eng = self.controller.engine
        store = self.controller.store
        reply["log"] = store.info()
        gc.collect()  # report live memory, not garbage waiting to be collected
        reply["mem"] = {"free": gc.mem_free(), "used": gc.mem_alloc()}
        reply["servos"] = [[s.rest_us, s.drop_us] for s in self.controller.servos]
        reply["selftest"] = self.controller.last_selftest
        if self.app.halted:  # the safe error state after repeated crashes (app.py)
            reply["schedule"] = None
            reply["state"] = "halted"
            reply["crashes"] = self.app.crashes
            return reply
        for name, section in self.status_sections:
            reply[name] = section()
        confirming = self.confirming
        if confirming is not None and self.controller.pending is confirming.schedule:
            reply["confirm"] = confirming.status()
        if eng is None:
            reply["schedule"] = None
            return reply
        sched = eng.schedule
        now = self.board.clock.now()
        ind = eng.indication(now or 0)
        reply["schedule"] = {"name": sched.name, "sha256": sched.sha, "tz": sched.tz}
        if sched.overrides:
            applied = self.controller.overrides_applied
            reply["schedule"]["overrides"] = {
                "rules": sched.overrides,
                "signers": sched.signers,
                "confirmed": self.controller.confirmed_at if applied else None,
                "applied": applied,
            }
        reply["state"] = engine.STATUS_NAMES[ind.status]
        reply["level"] = ind.level
        reply["pending"] = [list(p) for p in eng.pending(now)] if now is not None else []
        # Today's tally and run-out dates: the same functions as the MQTT state and the report.
        today = local_day(sched.utc, now) if now is not None else -1
        taken, refused, missed = forecast.today_counts(eng, today)
        reply["today"] = {"taken": taken, "refused": refused, "missed": missed}
        reply["held"] = [list(h) for h in eng.holds(now)] if now is not None else []
        reply["compartments"] = [
            {
                "id": c.id,
                "hopper": c.hopper,
                "stock": _stock(eng.stock[c.hopper]),
                "cap": c.capacity,
                "low": bool(ind.low_mask & (1 << c.hopper)),
                "jammed": bool(ind.jam_mask & (1 << c.hopper)),
                "runs_out": forecast.date_text(forecast.run_out_day(eng, c.hopper, today)),
            }
            for c in sched.comps
        ]
        return reply

    def log_info(self, args):
        info = self.controller.store.info()
        info["id"] = self.board.device_id
        return info

    def log_read(self, args):
        since = int_arg(args, "since", 0, 0x7FFFFFFF)
        limit = int_arg(args, "max", 64, MAX_CHUNK) if "max" in args else MAX_CHUNK
        store = self.controller.store
        data, last = store.read_since(since, limit)
        return {"b64": b64(data), "last": last, "more": last < store.last_seq}

    def _uploading(self):
        return self.upload is not None

    def _calibrating(self):
        return self.calibrating is not None

    async def time_set(self, args):
        with self._setup_code:
            from dispenser import setupcmds

            return await _settled(setupcmds.time_set(self, args))

    async def schedule_put(self, args):
        with self._setup_code:
            from dispenser import setupcmds

            return await _settled(setupcmds.schedule_put(self, args))

    async def schedule_get(self, args):
        with self._setup_code:
            from dispenser import setupcmds

            return await _settled(setupcmds.schedule_get(self, args))

    async def refill(self, args):
        with self._setup_code:
            from dispenser import setupcmds

            return await _settled(setupcmds.refill(self, args))

    async def identify(self, args):
        with self._setup_code:
            from dispenser import setupcmds

            return await _settled(setupcmds.identify(self, args))

    async def dispense_test(self, args):
        with self._setup_code:
            from dispenser import setupcmds

            return await _settled(setupcmds.dispense_test(self, args))

    async def maintenance(self, args):
        with self._setup_code:
            from dispenser import setupcmds

            return await _settled(setupcmds.maintenance(self, args))

    async def selftest(self, args):
        with self._service_code:
            from dispenser import servicecmds

            return await _settled(servicecmds.selftest(self, args))

    async def calibrate(self, args):
        with self._service_code:
            from dispenser import servicecmds

            return await _settled(servicecmds.calibrate(self, args))


async def _settled(reply):
    """`reply`, awaited first if it is a coroutine (a command that waits)."""
    if hasattr(reply, "send"):
        return await reply
    return reply


def _stock(count):
    return None if count == logrec.UNKNOWN_STOCK else count
