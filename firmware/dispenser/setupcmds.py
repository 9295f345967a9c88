"""The serial commands that change the device's set-up or move it outside the schedule:
time.set, schedule.put, schedule.get, refill, identify, dispense.test, maintenance
(docs/protocol.md).

They are rare, so Commands (dispenser/commands.py) keeps this module resident only for the
request (compat.Transient), and while a schedule upload is in progress: the running app does
not hold their code in RAM. Each function takes the Commands object `cmds` and keeps the
state that spans requests in its public attributes (upload, confirming), never here.
"""

import asyncio
import hashlib
from binascii import a2b_base64, hexlify

from dispenser.arbiter import CONFIRM
from dispenser.compat import const
from dispenser.controller import SCHEDULE_CODE
from dispenser.core import logrec, timekeep
from dispenser.core.engine import ScheduleError
from dispenser.core.localtime import MIN_VALID_TIME
from dispenser.core.protocol import (
    MAINTENANCE_HOLD_MS,
    MAINTENANCE_WINDOW_MS,
    MAX_CHUNK,
    RefusedError,
    b64,
    int_arg,
)

MAX_SCHEDULE = const(8192)  # bytes; compiled schedules are under 4 KB
TEST_HOLD_WINDOW_MS = const(10000)
IDENTIFY_S = const(5)


def time_set(cmds, args):
    # No earlier than the engine's idea of a valid clock: an older time would be "set"
    # but still count as unknown.
    t = int_arg(args, "t", MIN_VALID_TIME, 4_000_000_000)
    clock = cmds.board.clock
    previous = clock.now()
    clock.set(t)
    # Into the scratch words at once, not at the next watchdog feed: a reset right after a
    # `time sync` must not lose it.
    timekeep.save(cmds.board.scratch, t)
    cmds.controller.clock_was_set(previous)
    return {"t": clock.now(), "previous": previous}


def schedule_put(cmds, args):
    """Chunked upload: begin (size, sha256), data (off, b64) ..., commit."""
    op = args.get("op")
    if op == "begin":
        size = int_arg(args, "size", 1, MAX_SCHEDULE)
        sha = args.get("sha256")
        if not isinstance(sha, str) or len(sha) != 64:
            raise ValueError("sha256 must be 64 hex digits")
        cmds.upload = bytearray(size)
        cmds.upload_sha = sha
        return {"size": size}
    upload = cmds.upload
    if upload is None:
        raise RefusedError("no upload in progress: send op=begin first")
    if op == "data":
        off = int_arg(args, "off", 0, len(upload) - 1)
        chunk = a2b_base64(_str_arg(args, "b64"))
        if off + len(chunk) > len(upload):
            raise ValueError("chunk runs past the declared size")
        upload[off : off + len(chunk)] = chunk
        return {"off": off, "n": len(chunk)}
    if op == "commit":
        cmds.upload = None
        data = bytes(upload)
        if hexlify(hashlib.sha256(data).digest()).decode() != cmds.upload_sha:
            raise RefusedError("upload does not match its sha256: resend")
        try:
            with SCHEDULE_CODE:  # one load of the schedule check for the check and the install
                return _commit(cmds, data, args)
        except ScheduleError as exc:  # pillctl words it from the numbers
            refusal = {"code": exc.code, "path": exc.path, "values": exc.values}
            raise RefusedError("schedule rejected", {"refusal": refusal})
    if op == "abort":
        cmds.upload = None
        return {}
    raise ValueError("op must be begin, data, commit or abort")


def _commit(cmds, data, args):
    checked = cmds.controller.check(data)
    if checked.overrides:
        return _await_confirmation(cmds, data, checked, args)
    checked = None  # install() checks again; keep one parsed copy in RAM
    schedule = cmds.controller.install(data)
    return {"sha256": schedule.sha, "name": schedule.name}


def _await_confirmation(cmds, data, schedule, args):
    """A schedule that overrides a safety rule waits for a person at the device
    (dispenser.confirm, imported only now). Nothing on the USB side alone lifts a rule.
    `confirm_s` in the commit's arguments shortens the wait, never lengthens it."""
    from dispenser.confirm import CONFIRM_WINDOW_S, Confirmation

    window_s = CONFIRM_WINDOW_S
    if "confirm_s" in args:
        window_s = int_arg(args, "confirm_s", 1, CONFIRM_WINDOW_S)
    if cmds.confirming is not None:
        cmds.confirming.replace()
    confirmation = Confirmation(cmds.app, data, schedule, window_s)
    cmds.confirming = confirmation
    confirmation.start()
    return {"sha256": schedule.sha, "name": schedule.name, "confirm": confirmation.status()}


def schedule_get(cmds, args):
    off = int_arg(args, "off", 0, MAX_SCHEDULE)
    try:
        with SCHEDULE_CODE:
            from dispenser import schedstore

            chunk, size = schedstore.read(schedstore.SCHEDULE_PATH, off, MAX_CHUNK)
    except OSError:
        raise RefusedError("no schedule installed")
    return {"off": off, "size": size, "b64": b64(chunk)}


def refill(cmds, args):
    hopper = int_arg(args, "hopper", 0, 2)
    count = int_arg(args, "count", 0, 1000)
    eng = cmds.controller.engine
    if eng is None:
        raise RefusedError("no schedule installed: push one first")
    comp = eng.schedule.comp_for_hopper(hopper)
    if comp is not None and count > comp.capacity:
        # More pills than the compartment holds is a typo, and would hide a low stock.
        raise RefusedError("%s holds at most %d pills, not %d" % (comp.id, comp.capacity, count))
    cmds.controller.refill(hopper, count)
    return {"hopper": hopper, "count": count}


def identify(cmds, args):
    asyncio.create_task(cmds.controller.identify(IDENTIFY_S))
    return {"seconds": IDENTIFY_S}


async def dispense_test(cmds, args):
    """One actuation, only if a person holds the device's button within 10 s: nothing
    on the USB side alone can move a servo outside the schedule."""
    hopper = int_arg(args, "hopper", 0, 2)
    if not await cmds.app.confirming_press(TEST_HOLD_WINDOW_MS):
        raise RefusedError("button not pressed within 10 s: nothing moved")
    delivered = await cmds.controller.test_dispense(hopper)
    return {"hopper": hopper, "delivered": delivered}


async def maintenance(cmds, args):
    """The maintenance REPL, only after a 2 s hold of the device's button within 60 s:
    USB alone never reaches the REPL while the app runs. `by` names who asked (logged)."""
    who = args.get("by", "")
    if not isinstance(who, str) or len(who) > 32:
        raise ValueError("by must be a string of at most 32 characters")
    controller = cmds.controller
    who = who.encode()
    controller.append(controller.clock.now() or 0, logrec.MAINTENANCE, (logrec.MAINT_ASKED, who))
    held = await cmds.app.confirming_press(MAINTENANCE_WINDOW_MS, MAINTENANCE_HOLD_MS, CONFIRM)
    step = logrec.MAINT_OPENED if held else logrec.MAINT_REFUSED
    controller.append(controller.clock.now() or 0, logrec.MAINTENANCE, (step, who))
    if not held:
        raise RefusedError("no 2 s hold of the device's button within 60 s: the app runs on")
    cmds.app.open_maintenance()
    return {"seconds": cmds.board.maintenance_s}


def _str_arg(args, name):
    value = args.get(name)
    if not isinstance(value, str):
        raise ValueError(name + " must be a string")
    return value
