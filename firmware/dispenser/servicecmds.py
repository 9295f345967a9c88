"""The bench commands a maker runs while building and checking a dispenser: `selftest`
(one step of `pillctl selftest` per request) and `calibrate` (`pillctl calibrate`), see
docs/protocol.md and docs/hardware.md.

Like dispenser.setupcmds they are loaded for a request and unloaded after it, so normal
dispensing keeps none of this code in RAM. Each function takes the Commands object as
`cmds` and keeps its state there. Every wait for the person at the device goes through
App.confirming_press, whose presses never dispense; every servo movement waits for such a
press first (a calibration, once, at its start), as dispense.test does.
"""

import asyncio
import os

from dispenser.compat import const, ticks_add, ticks_diff, ticks_ms
from dispenser.controller import SETUP_FILES
from dispenser.core import patterns
from dispenser.core.protocol import SELFTEST_HOLD_MS, RefusedError, int_arg
from dispenser.drivers.delivery import MAX_US, MIN_US, deliver

WAIT_MS_MAX = const(60000)  # how long a step may wait for the person
_SETTLE_MS = const(400)  # at a step's start, before it waits for its own press
_BEEP_GAP_MS = const(1000)
CALIBRATE_IDLE_MS = const(60000)  # a calibration nobody moves for a minute ends itself
_IDLE_POLL_MS = const(1000)
LED_NAMES = ("status", "0", "1", "2")


def selftest(cmds, args):
    step = args.get("step")
    if step == "clock":
        return _clock(cmds)
    if step == "flash":
        return _flash(cmds)
    if step == "done":
        return _done(cmds, args)
    wait_ms = int_arg(args, "wait_ms", 1000, WAIT_MS_MAX)
    if step == "press":
        return _person(cmds, "press", wait_ms, 0)
    if step == "hold":
        return _person(cmds, "hold", wait_ms, SELFTEST_HOLD_MS)
    if step == "led":
        return _led(cmds, int_arg(args, "led", 0, 3), wait_ms)
    if step == "buzzer":
        return _buzzer(cmds, int_arg(args, "level", 2, 3), wait_ms)
    if step == "servo":
        return _servo(cmds, int_arg(args, "hopper", 0, 2), wait_ms)
    raise ValueError("step must be press, hold, led, buzzer, servo, clock, flash or done")


async def _person(cmds, what, wait_ms, hold_ms=0):
    """{"ok": True} once the person pressed (held) the button in time."""
    # A press in the first moments is the tail of the last step's answer (a double
    # press), not this step's: it is taken, as no dose press, and the wait starts after.
    settle = ticks_add(ticks_ms(), _SETTLE_MS)
    left = _SETTLE_MS
    while left > 0:
        await cmds.app.confirming_press(left)
        left = ticks_diff(settle, ticks_ms())
    # The event says the device waits from now on: a person (or a test) acts on it.
    cmds.app.event({"kind": "waiting", "for": what, "ms": wait_ms})
    return {"ok": await cmds.app.confirming_press(wait_ms, hold_ms)}


async def _led(cmds, index, wait_ms):
    """One LED lit alone (0: status, 1-3: compartments 0-2) until the person presses."""
    controller = cmds.controller
    leds = [controller.status_led] + controller.compartment_leds
    for i, led in enumerate(leds):
        led.show(patterns.STEADY_ON if i == index else patterns.OFF)
    try:
        return await _person(cmds, "led " + LED_NAMES[index], wait_ms)
    finally:
        controller.show(cmds.board.clock.now())


async def _buzzer(cmds, level, wait_ms):
    """The reminder level's beeps, over and over, until the person presses."""
    beeps = asyncio.create_task(_beep(cmds.controller.buzzer, level))
    try:
        return await _person(cmds, "buzzer %d" % level, wait_ms)
    finally:
        beeps.cancel()
        cmds.controller.buzzer.off()


async def _beep(buzzer, level):
    while True:
        await buzzer.remind(level)
        await asyncio.sleep_ms(_BEEP_GAP_MS)


async def _servo(cmds, hopper, wait_ms):
    """After a press, one sweep to the drop position and back; `pill` says whether the drop
    sensor saw one (None: no sensor fitted)."""
    reply = await _person(cmds, "servo %d" % hopper, wait_ms)
    if not reply["ok"]:
        return reply
    controller = cmds.controller
    servo = controller.servos[hopper]
    reply["rest"] = servo.rest_us
    reply["drop"] = servo.drop_us
    if controller.sensor is None:
        await servo.actuate()
        reply["pill"] = None
    else:
        reply["pill"] = await deliver(servo, controller.sensor, 1, 0) == 1
    return reply


def _clock(cmds):
    """The board's time and what its DS3231 holds (None: no DS3231 answers; lost: it lost
    its time), for the host to compare with its own."""
    reply = {"t": cmds.board.clock.now(), "ds3231": None}
    ds3231 = getattr(cmds.board, "ds3231", None)
    if ds3231 is not None:
        try:
            t = ds3231.read_time()
            reply["ds3231"] = {"t": t, "lost": t is None}
        except OSError:  # not on the bus (any more)
            pass
    return reply


def _flash(cmds):
    """Free space on the flash filesystem and the log's health."""
    st = os.statvfs(".")  # the flash's root on a Pico, the sim's flash folder
    store = cmds.controller.store
    return {
        "free": st[0] * st[4],
        "size": st[0] * st[2],
        "log": store.info(),
        "skipped": store.skipped_bytes,
    }


def _done(cmds, args):
    """The SELFTEST record, with the masks of the steps that passed and failed."""
    passed = int_arg(args, "passed", 0, 0xFFFF)
    failed = int_arg(args, "failed", 0, 0xFFFF)
    controller = cmds.controller
    t = cmds.board.clock.now() or 0
    seq = controller.selftest_done(t, passed, failed)
    with SETUP_FILES:
        from dispenser import setupfiles

        try:
            setupfiles.save_selftest(controller.last_selftest)
        except OSError:
            pass  # best effort: the record is in the log
    return {"seq": seq, "t": t}


# --- calibration ---------------------------------------------------------------------
def calibrate(cmds, args):
    """op begin (waits for a press), move (a pulse width), sweep, save, end; save also
    works without a session: it moves nothing."""
    op = args.get("op")
    hopper = int_arg(args, "hopper", 0, 2)
    servo = cmds.controller.servos[hopper]
    if op == "save":
        return _save(cmds, servo, args)
    if op == "begin":
        return _begin(cmds, hopper, int_arg(args, "wait_ms", 1000, WAIT_MS_MAX))
    session = cmds.calibrating
    if session is None or session[0] != hopper:
        raise RefusedError("no calibration of hopper %d in progress: begin first" % hopper)
    session[1] = ticks_ms()
    if op == "move":
        return _move(servo, args)
    if op == "sweep":
        return _sweep(cmds, servo)
    if op == "end":
        _end(cmds)
        return _rest(servo)
    raise ValueError("op must be begin, move, sweep, save or end")


async def _begin(cmds, hopper, wait_ms):
    if cmds.calibrating is not None:
        raise RefusedError("hopper %d is being calibrated" % cmds.calibrating[0])
    reply = await _person(cmds, "calibrate %d" % hopper, wait_ms)
    if reply["ok"]:
        servo = cmds.controller.servos[hopper]
        reply["rest"] = servo.rest_us
        reply["drop"] = servo.drop_us
        # While the person positions a servo, the button is the calibration's: a dose
        # press would drive that servo too. A wait no press can satisfy takes each press
        # (logged if a dose was due) until the session ends; a self-test step or a test
        # dispense asked meanwhile still gets its own (dispenser.arbiter's ranks).
        button = cmds.app.arbiter.session()
        cmds.calibrating = [hopper, ticks_ms(), button]
        asyncio.create_task(_end_when_idle(cmds, cmds.calibrating, servo))
    return reply


def _end(cmds):
    cmds.app.arbiter.release(cmds.calibrating[2])
    cmds.calibrating = None


async def _end_when_idle(cmds, session, servo):
    # A host that went away must not leave a servo powered at some position.
    while cmds.calibrating is session:
        if ticks_diff(ticks_ms(), session[1]) > CALIBRATE_IDLE_MS:
            _end(cmds)
            await _rest(servo)
            return
        await asyncio.sleep_ms(_IDLE_POLL_MS)


async def _move(servo, args):
    us = int_arg(args, "us", MIN_US, MAX_US)
    servo.hold()
    await servo.move_to(us)  # and it stays there, powered, for the person to look
    return {"us": us}


async def _sweep(cmds, servo):
    """One full sweep with the pulse widths in use, from rest; `pill` as in the cmds-test."""
    await _rest(servo)
    sensor = cmds.controller.sensor
    if sensor is None:
        await servo.actuate()
        return {"pill": None}
    return {"pill": await deliver(servo, sensor, 1, 0) == 1}


async def _rest(servo):
    try:
        await servo.move_to(servo.rest_us)
    finally:
        servo.release()
    return {"rest": servo.rest_us}


def _save(cmds, servo, args):
    """Store the hopper's rest and drop pulse widths; the servo uses them from its next
    movement on."""
    with SETUP_FILES:
        from dispenser import setupfiles

        rest = int_arg(args, "rest", MIN_US, MAX_US)
        drop = int_arg(args, "drop", MIN_US, MAX_US)
        if rest == drop:
            raise ValueError("rest and drop must differ, or the hopper never moves")
        old = servo.rest_us, servo.drop_us
        servo.calibrate(rest, drop)
        try:
            setupfiles.save(cmds.controller.servos)
        except OSError:
            servo.calibrate(*old)
            raise RefusedError("the flash did not take the calibration: nothing changed")
    return {"rest": rest, "drop": drop}
