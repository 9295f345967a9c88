"""The device's serial commands (docs/protocol.md): one method per verb.

A handler takes the request's argument object and returns the reply object, or a coroutine
for the few that wait (dispense.test). ValueError means bad arguments and RefusedError a
refusal; both leave the state as it was.
"""

import gc
from binascii import b2a_base64

from dispenser import PROTOCOL_VERSION, VERSION
from dispenser.compat import const, unload
from dispenser.core import engine, forecast, logrec
from dispenser.core.localtime import local_day

MAX_CHUNK = const(2048)  # bytes per log.read or schedule.get reply
_SETUP_MODULE = ("dispenser.setupcmds",)
_SERVICE_MODULE = ("dispenser.servicecmds",)


class RefusedError(Exception):
    """The device will not do it; the message says why."""


class Commands:
    def __init__(self, app):
        self.app = app
        self.board = app.board
        self.controller = app.controller
        self._upload = None  # bytearray of a schedule upload in progress
        self._upload_sha = None
        self._confirming = None  # the last dispenser.confirm.Confirmation started
        self._calibrating = None  # [hopper, ticks of its last step] (dispenser.servicecmds)
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
        confirming = self._confirming
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
        since = _int_arg(args, "since", 0, 0x7FFFFFFF)
        limit = _int_arg(args, "max", 64, MAX_CHUNK) if "max" in args else MAX_CHUNK
        store = self.controller.store
        data, last = store.read_since(since, limit)
        return {"b64": _b64(data), "last": last, "more": last < store.last_seq}

    # The commands that change the device's set-up or move it outside the schedule are
    # rare: their code (dispenser/setupcmds.py) is loaded for the request and unloaded
    # after it, except while a schedule upload is in progress (compat.unload).
    def time_set(self, args):
        return self._setup("time_set", args)

    def schedule_put(self, args):
        return self._setup("schedule_put", args)

    def schedule_get(self, args):
        return self._setup("schedule_get", args)

    def refill(self, args):
        return self._setup("refill", args)

    def identify(self, args):
        return self._setup("identify", args)

    def dispense_test(self, args):
        return self._setup("dispense_test", args)

    def maintenance(self, args):
        return self._setup("maintenance", args)

    def _setup(self, name, args):
        from dispenser import setupcmds

        try:
            return getattr(setupcmds, name)(self, args)
        finally:
            if self._upload is None:
                unload(_SETUP_MODULE)

    # The bench commands (dispenser/servicecmds.py): self-test and calibration, loaded
    # for the request and unloaded after it.
    def selftest(self, args):
        return self._service("selftest", args)

    def calibrate(self, args):
        return self._service("calibrate", args)

    def _service(self, name, args):
        from dispenser import servicecmds

        try:
            return getattr(servicecmds, name)(self, args)
        finally:
            unload(_SERVICE_MODULE)


def _stock(count):
    return None if count == logrec.UNKNOWN_STOCK else count


def _int_arg(args, name, low, high):
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError("%s must be an integer from %d to %d" % (name, low, high))
    return value


def _b64(data):
    """Base64 as bytes, not str: the link writes them into the reply frame as they are
    (protocol.write), with no copy and no JSON escaping pass."""
    return b2a_base64(data, newline=False)
