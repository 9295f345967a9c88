"""The device's serial commands (docs/protocol.md): one method per verb.

A handler takes the request's argument object and returns the reply object, or a coroutine
for the few that wait (dispense.test). ValueError means bad arguments and RefusedError a
refusal; both leave the state as it was.
"""

import asyncio
import gc
import hashlib
from binascii import a2b_base64, b2a_base64, hexlify

from dispenser import PROTOCOL_VERSION, VERSION, engine, logrec
from dispenser.compat import const
from dispenser.engine import ScheduleError
from dispenser.localtime import MIN_VALID_TIME

MAX_SCHEDULE = const(8192)  # bytes; compiled schedules are under 4 KB
MAX_CHUNK = const(2048)  # bytes per log.read or schedule.get reply
TEST_HOLD_WINDOW_MS = const(10000)
IDENTIFY_S = const(5)


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
            reply["schedule"]["overrides"] = {
                "rules": sched.overrides,
                "signers": sched.signers,
                "confirmed": self.controller.confirmed_at,
            }
        reply["state"] = engine.STATUS_NAMES[ind.status]
        reply["level"] = ind.level
        reply["pending"] = [list(p) for p in eng.pending(now)] if now is not None else []
        reply["compartments"] = [
            {
                "id": c.id,
                "hopper": c.hopper,
                "stock": _stock(eng.stock[c.hopper]),
                "cap": c.capacity,
                "low": bool(ind.low_mask & (1 << c.hopper)),
                "jammed": bool(ind.jam_mask & (1 << c.hopper)),
            }
            for c in sched.comps
        ]
        return reply

    def time_set(self, args):
        # No earlier than the engine's idea of a valid clock: an older time would be "set"
        # but still count as unknown.
        t = _int_arg(args, "t", MIN_VALID_TIME, 4_000_000_000)
        clock = self.board.clock
        previous = clock.now()
        clock.set(t)
        self.controller.clock_was_set(previous)
        return {"t": clock.now(), "previous": previous}

    def schedule_put(self, args):
        """Chunked upload: begin (size, sha256), data (off, b64) ..., commit."""
        op = args.get("op")
        if op == "begin":
            size = _int_arg(args, "size", 1, MAX_SCHEDULE)
            sha = args.get("sha256")
            if not isinstance(sha, str) or len(sha) != 64:
                raise ValueError("sha256 must be 64 hex digits")
            self._upload = bytearray(size)
            self._upload_sha = sha
            return {"size": size}
        upload = self._upload
        if upload is None:
            raise RefusedError("no upload in progress: send op=begin first")
        if op == "data":
            off = _int_arg(args, "off", 0, len(upload) - 1)
            chunk = a2b_base64(_str_arg(args, "b64"))
            if off + len(chunk) > len(upload):
                raise ValueError("chunk runs past the declared size")
            upload[off : off + len(chunk)] = chunk
            return {"off": off, "n": len(chunk)}
        if op == "commit":
            self._upload = None
            data = bytes(upload)
            if hexlify(hashlib.sha256(data).digest()).decode() != self._upload_sha:
                raise RefusedError("upload does not match its sha256: resend")
            try:
                checked = self.controller.check(data)
                if checked.overrides:
                    return self._await_confirmation(data, checked, args)
                checked = None  # install() checks again; keep one parsed copy in RAM
                schedule = self.controller.install(data)
            except ScheduleError as exc:
                raise RefusedError("schedule rejected: " + str(exc))
            return {"sha256": schedule.sha, "name": schedule.name}
        if op == "abort":
            self._upload = None
            return {}
        raise ValueError("op must be begin, data, commit or abort")

    def _await_confirmation(self, data, schedule, args):
        """A schedule that overrides a safety rule waits for a person at the device
        (dispenser.confirm, imported only now). Nothing on the USB side alone lifts a rule.
        `confirm_s` in the commit's arguments shortens the wait, never lengthens it."""
        from dispenser.confirm import CONFIRM_WINDOW_S, Confirmation

        window_s = CONFIRM_WINDOW_S
        if "confirm_s" in args:
            window_s = _int_arg(args, "confirm_s", 1, CONFIRM_WINDOW_S)
        if self._confirming is not None:
            self._confirming.replace()
        confirmation = Confirmation(self.app, data, schedule, window_s)
        self._confirming = confirmation
        confirmation.start()
        return {"sha256": schedule.sha, "name": schedule.name, "confirm": confirmation.status()}

    def schedule_get(self, args):
        off = _int_arg(args, "off", 0, MAX_SCHEDULE)
        try:
            chunk, size = self.controller.schedstore(
                lambda s: s.read(s.SCHEDULE_PATH, off, MAX_CHUNK)
            )
        except OSError:
            raise RefusedError("no schedule installed")
        return {"off": off, "size": size, "b64": _b64(chunk)}

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

    def refill(self, args):
        hopper = _int_arg(args, "hopper", 0, 2)
        count = _int_arg(args, "count", 0, 1000)
        eng = self.controller.engine
        if eng is None:
            raise RefusedError("no schedule installed: push one first")
        comp = eng.schedule.comp_for_hopper(hopper)
        if comp is not None and count > comp.capacity:
            # More pills than the compartment holds is a typo, and would hide a low stock.
            raise RefusedError(
                "%s holds at most %d pills, not %d" % (comp.id, comp.capacity, count)
            )
        self.controller.refill(hopper, count)
        return {"hopper": hopper, "count": count}

    def identify(self, args):
        asyncio.create_task(self.controller.identify(IDENTIFY_S))
        return {"seconds": IDENTIFY_S}

    async def dispense_test(self, args):
        """One actuation, only if a person holds the device's button within 10 s: nothing
        on the USB side alone can move a servo outside the schedule."""
        hopper = _int_arg(args, "hopper", 0, 2)
        if not await self.app.confirming_press(TEST_HOLD_WINDOW_MS):
            raise RefusedError("button not pressed within 10 s: nothing moved")
        delivered = await self.controller.test_dispense(hopper)
        return {"hopper": hopper, "delivered": delivered}


def _stock(count):
    return None if count == logrec.UNKNOWN_STOCK else count


def _int_arg(args, name, low, high):
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError("%s must be an integer from %d to %d" % (name, low, high))
    return value


def _str_arg(args, name):
    value = args.get(name)
    if not isinstance(value, str):
        raise ValueError(name + " must be a string")
    return value


def _b64(data):
    return b2a_base64(data).decode().rstrip("\n")
