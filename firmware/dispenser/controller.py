"""Wires the dose engine to the log on flash, the drivers and the wall clock.

Every engine event is appended to the log before it takes effect in the world: a dispense
record is on flash before its servo moves (DESIGN.md invariant 1). Boot replays the log into
the engine before anything can be dispensed. Every engine decision runs inside the log's
begin()/end(), so a rotation's checkpoint never counts an event that is not on flash yet.
"""

import asyncio

from dispenser.compat import Transient, const
from dispenser.core import logrec, patterns
from dispenser.core.engine import Engine, ScheduleError
from dispenser.drivers.buzzer import Buzzer
from dispenser.drivers.delivery import DropSensor, Servo, deliver
from dispenser.drivers.leds import Led
from dispenser.logstore import LOG_DIR, LogStore
from dispenser.timing import wait_for_ms

_IDLE_WAKE_S = const(3600)  # with nothing scheduled, still look again hourly
_BEEP_REPEAT_MS = const(5000)
# Resident only for a boot, a check, an install or a schedule.get (compat.Transient); the
# engine keeps the few nutrient ceilings it needs by value.
SCHEDULE_CODE = Transient(
    (
        "dispenser.schedstore",
        "dispenser.checkedfile",
        "dispenser.core.schedule",
        "dispenser.core.nutrients",
        "dispenser.core.checkpoint",  # the check bounds a checkpoint's size
    )
)
# Resident only for a replay (boot, an install) and a log rotation: the CHECKPOINT record's
# code, which the engine imports only there (about 1.8 KB of .mpy).
CHECKPOINT_CODE = Transient(("dispenser.core.checkpoint",))
# Resident only for a boot and the self-test and calibrate commands: the set-up files.
SETUP_FILES = Transient(("dispenser.setupfiles", "dispenser.checkedfile"))
_BOOT_CODE = Transient(("dispenser.boot",))


class Controller:
    def __init__(self, board):
        self.board = board
        self.clock = board.clock
        self._listeners = []  # called with each (seq, t, kind, fields) logged: subscribe()
        self.status_led = Led(board.status_led)
        self.compartment_leds = [Led(pin) for pin in board.compartment_leds]
        self.buzzer = Buzzer(board.buzzer_pwm)
        self.servos = [
            Servo(pwm, cal[0], cal[1])
            for pwm, cal in zip(board.servo_pwms, board.servo_calibration)
        ]
        self.sensor = DropSensor(board.drop_pin) if board.drop_pin is not None else None
        self.engine = None
        self.store = LogStore(LOG_DIR, budget=board.log_budget)
        self._level = 0
        self._level_changed = asyncio.Event()
        self.pending = None  # a checked schedule with overrides, waiting (dispenser.confirm)
        # The newest override confirmation this device's log holds (OVERRIDE_BOUND), and
        # the UTC time of the hold. It lapses when another schedule is installed. An
        # override applies only to the schedule it names (docs/safety-rules.md).
        self.bound = None  # (sha256 digest, device id) of that OVERRIDE_BOUND record
        self.confirmed_at = None
        self.overrides_applied = True  # False: the schedule's overrides had no confirmation
        self.last_selftest = None  # (UTC time, passed, failed) of the last self-test

    def subscribe(self, listener):
        """`listener((seq, t, kind, fields))` is called with each record once it is logged."""
        self._listeners.append(listener)

    # --- boot --------------------------------------------------------------------------
    def boot(self):
        """Load the schedule, replay the log into the engine, log the boot (dispenser.boot:
        resident only for the boot, with the set-up files it reads)."""
        with _BOOT_CODE, SETUP_FILES:
            from dispenser.boot import boot

            self.last_selftest = boot(self)

    def selftest_done(self, t, passed, failed):
        """Log a guided self-test's outcome; `status` reports it from now on."""
        seq = self.append(t, logrec.SELFTEST, (passed, failed))
        self.last_selftest = (t, passed, failed)
        return seq

    def start_engine(self, schedule, now):
        """An engine for `schedule`, its state replayed from the newest checkpoint on."""
        engine = Engine(schedule)
        self.store.checkpoint_with(self._checkpoint, self._carry)
        with CHECKPOINT_CODE:
            engine.restore(self._replay(), now is not None)
        self.engine = engine
        self._bind(schedule)
        return engine

    def _replay(self):
        """The log's replay records, passed on to the engine, noting on the way the newest
        override confirmation made on this device (no extra scan of the log); installing
        another schedule ends it."""
        device = logrec.device_field(self.board.device_id)
        for rec in self.store.replay_records():
            kind, fields = rec[2], rec[3]
            if kind == logrec.OVERRIDE_BOUND and bytes(fields[1]).rstrip(b"\x00") == device:
                self.bound, self.confirmed_at = (bytes(fields[0]), bytes(fields[1])), rec[1]
            elif kind == logrec.SCHEDULE and self.bound is not None:
                if bytes(self.bound[0][:4]) != fields[0].to_bytes(4, "big"):
                    self.bound = self.confirmed_at = None
            yield rec

    def _bind(self, schedule):
        """Apply `schedule`'s overrides only if this device confirmed this exact schedule;
        otherwise its caps are held to the normal limits (dispenser.schedstore.bind)."""
        with SCHEDULE_CODE:
            from dispenser import schedstore

            confirmed = schedstore.bind(schedule, self.bound)
        if not confirmed:
            self.bound = self.confirmed_at = None  # it confirmed another schedule, or none
        self.overrides_applied = not schedule.overrides or self.bound is not None

    def await_hold(self, schedule):
        """`schedule` (checked, with overrides) waits for its hold (dispenser.confirm)."""
        self.pending = schedule

    def end_wait(self, schedule):
        """Whether `schedule` was the one waiting; it waits no longer."""
        if self.pending is not schedule:
            return False
        self.pending = None
        return True

    def _checkpoint(self):
        """What a log rotation writes first: the engine's CHECKPOINT payload."""
        engine = self.engine  # set by start_engine before any record can rotate the log
        assert engine is not None
        with CHECKPOINT_CODE:
            return engine.checkpoint()

    def _carry(self):
        """What a log rotation writes after its CHECKPOINT: the active schedule's override
        confirmation, so that no rotation drops it while the schedule is active."""
        if self.bound is None or not self.overrides_applied:
            return ()
        return ((self.confirmed_at, logrec.OVERRIDE_BOUND, self.bound),)

    def load_schedule(self):
        """The installed schedule, checked (ScheduleError if refused), or None."""
        with SCHEDULE_CODE:
            from dispenser import schedstore

            return schedstore.load(schedstore.SCHEDULE_PATH)

    def check(self, data):
        """The Schedule `data` would install, checked, not installed; a refusal is logged
        and raised as ScheduleError."""
        try:
            with SCHEDULE_CODE:
                from dispenser import schedstore

                return schedstore.check(data)
        except ScheduleError as exc:
            self.append(
                self.clock.now() or 0, logrec.ERROR, (logrec.ERR_SCHEDULE_REJECTED, exc.code)
            )
            raise

    def install(self, data, confirmed=None):
        """Check and atomically install a compiled schedule; the old one stays on failure.
        Raises ScheduleError with the device's reason. `confirmed`: the OVERRIDE_BOUND
        fields (sha256 digest, device field) of a hold made at this device for it
        (dispenser.confirm); logged after the SCHEDULE record, once the schedule is in force,
        so a failed install never leaves a confirmation for a schedule that is not (a cut in
        between leaves the new schedule at normal limits, never above them)."""
        now = self.clock.now() or 0
        try:
            with SCHEDULE_CODE:
                from dispenser import schedstore

                schedule = schedstore.install(schedstore.SCHEDULE_PATH, data)
        except ScheduleError as exc:
            self.append(now, logrec.ERROR, (logrec.ERR_SCHEDULE_REJECTED, exc.code))
            raise
        engine = self.engine
        if engine is None:
            engine = self.start_engine(schedule, now or None)
        if confirmed is not None:
            self.bound, self.confirmed_at = confirmed, now
        self._bind(schedule)
        if not self.overrides_applied:
            self.append(now, logrec.ERROR, (logrec.ERR_OVERRIDE_UNBOUND, 0))
        self.decide(now, engine.install, now, schedule)
        if confirmed is not None:
            self.append(now, logrec.OVERRIDE_BOUND, confirmed)
        self.clock.changed()
        return schedule

    def refill(self, hopper, count):
        """Record a refill; needs a schedule (the caller checks)."""
        engine = self.engine
        assert engine is not None
        now = self.clock.now() or 0
        self.decide(now, engine.refill, now, hopper, count)
        self.clock.changed()

    async def test_dispense(self, hopper):
        """Maintenance: one actuation of a hopper, outside the schedule and its log."""
        return await deliver(self.servos[hopper], self.sensor, 1)

    async def identify(self, seconds):
        leds = [self.status_led] + self.compartment_leds
        for led in leds:
            led.show(patterns.IDENTIFY)
        await asyncio.sleep_ms(seconds * 1000)
        self.show(self.clock.now())

    # --- logging -----------------------------------------------------------------------
    def append(self, t, kind, fields):
        seq = self.store.append(t, kind, fields)
        for listener in self._listeners:
            listener((seq, t, kind, fields))
        return seq

    def log(self, events):
        for t, kind, fields in events:
            self.append(t, kind, fields)

    def decide(self, t, method, *args):
        """Log the events of one synchronous engine call, inside a log batch (see LogStore
        .begin): the engine applies them before they are written."""
        engine = self.engine
        assert engine is not None
        store = self.store
        store.begin(t, engine.batch_bytes)
        try:
            self.log(method(*args))
        except Exception:
            self._forget_unwritten(engine)
            raise
        finally:
            store.end()

    def _forget_unwritten(self, engine):
        # An append failed (flash full or failing): the engine has applied events that are
        # not on flash. Rebuild it from the log, so neither it nor a later checkpoint counts
        # them (a dose whose DISPENSE was not written is still due).
        self.start_engine(engine.schedule, self.clock.now() if engine.clock_known else None)

    # --- tasks -------------------------------------------------------------------------
    def tasks(self):
        """The controller's tasks for the app's supervisor: (name, coroutine function
        taking check_in, critical). The LEDs and the buzzer are restarted if they fail."""
        leds = [self.status_led] + self.compartment_leds
        tasks = [("schedule", self.schedule_loop, True), ("buzzer", self.buzzer_loop, False)]
        for led in leds:
            tasks.append(("leds", led.run, False))
        return tasks

    def tick(self, now):
        """Log what the passage of time to `now` decided (the engine exists, now is known)."""
        engine = self.engine
        assert engine is not None
        if not engine.clock_known:
            # The clock became valid without time.set (an RTC, the sim's clock).
            self.decide(now, engine.clock_set, now, 0)
        self.decide(now, engine.tick, now)

    async def schedule_loop(self, check_in):
        """Sleep on the wall clock until the engine's next change; log what happened. The
        naps end at least every clock.MAX_NAP_MS, so the loop checks in at least as often."""
        while True:
            check_in()
            now = self.clock.now()
            wake = None
            if self.engine is not None and now is not None:
                self.tick(now)
                wake = self.engine.next_wake(now)
            self.show(now)
            if wake is None:
                wake = 0 if now is None else now + _IDLE_WAKE_S
            await self.clock.sleep_until(wake)

    async def buzzer_loop(self, _check_in):
        """Beep at the reminder's level while it is 2 or more; silent otherwise."""
        while True:
            if self._level < 2:
                self._level_changed.clear()
                await self._level_changed.wait()
                continue
            await self.buzzer.remind(self._level)
            try:
                await wait_for_ms(self._level_changed.wait(), _BEEP_REPEAT_MS)
            except asyncio.TimeoutError:
                pass
            self._level_changed.clear()

    def show(self, now):
        """Put the engine's indication on the LEDs and the buzzer; while an override waits
        for its hold, the status LED shows that instead."""
        engine = self.engine
        if engine is None:
            status = patterns.TIME_UNKNOWN if now is None else patterns.HEARTBEAT
            for led in self.compartment_leds:
                led.show(patterns.OFF)
            level = 0
        else:
            ind = engine.indication(now or 0)
            status = patterns.status_pattern(ind)
            for hopper, led in enumerate(self.compartment_leds):
                led.show(patterns.compartment_pattern(ind, hopper))
            level = ind.level
        self.status_led.show(patterns.CONFIRM_OVERRIDE if self.pending is not None else status)
        if level != self._level:
            self._level = level
            self._level_changed.set()

    # --- inputs ------------------------------------------------------------------------
    async def press(self, long):
        """A button press: dispense what is due (short) or snooze (long)."""
        # The button loop awaits this, so a second press is only read once this one is done;
        # the engine's lockout then answers it.
        now = self.clock.now()
        engine = self.engine
        if engine is None or now is None:
            self.status_led.show(patterns.NOTHING_DUE)
            return
        store = self.store
        store.begin(now, engine.batch_bytes)
        try:
            # The batch stays open while pills drop: the engine already counts the doses
            # still to be written, so nothing may rotate (checkpoint) until they are.
            for t, kind, fields in engine.press(now, long):
                self.append(t, kind, fields)  # on flash before the servo moves
                if kind == logrec.DISPENSE:
                    await self._drop(engine, now, fields)
        except Exception:
            self._forget_unwritten(engine)
            raise
        finally:
            store.end()
        self.show(now)
        self.clock.changed()  # re-plan: the next wake-up may have moved

    async def _drop(self, engine, now, fields):
        hopper, pills = logrec.unpack_hopper(fields[1]), fields[2]
        delivered = await deliver(self.servos[hopper], self.sensor, pills)
        if delivered < pills:
            self.log(engine.jammed(now, fields[0], hopper, delivered))

    def clock_was_set(self, previous):
        now = self.clock.now()
        if self.engine is not None:
            self.decide(now, self.engine.clock_set, now, previous or 0)
        else:
            self.append(now, logrec.CLOCK_SET, (previous or 0,))

    def press_taken(self, rank):
        """A press went to a wait (dispenser.arbiter), not to the dose: if a dose was due,
        the log says why it was not dispensed."""
        engine = self.engine
        now = self.clock.now()
        if engine is None or now is None or not engine.indication(now).due_mask:
            return
        self.append(now, logrec.ERROR, (logrec.ERR_PRESS_TAKEN, rank))

    def safe(self):
        """Maintenance: servos released, buzzer silent, LEDs dark."""
        for servo in self.servos:
            servo.release()
        self.buzzer.off()
        for led in [self.status_led] + self.compartment_leds:
            led.show(patterns.OFF)
            led.pin.value(0)
