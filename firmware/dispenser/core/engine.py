"""The dose state machine: what is due, what to remind, what was missed, what may drop.

Pure: every method takes the current UTC time `now` (epoch seconds) and returns the events
the app must log, as `(t, kind, fields)` tuples (kinds and fields in dispenser.core.logrec).

Epoch seconds are above 2^30: on a Pico (31-bit small ints) each one is a heap object, and
each sum that yields one allocates. So what runs at every wake compares epoch values and
works with their differences (small), and the times it needs are computed once per day or
per record (the day plan and its windows, core/windows.py), never per wake; next_wake's result is
the one epoch value a wake creates.

Event sourcing keeps replay honest: the engine changes its persistent state ONLY in
`apply()`, and every decision is turned into an event that is applied at once. Replaying the
log through `apply()` at boot therefore rebuilds exactly the state the engine had. `apply()`
is idempotent for every kind, so a checkpoint that already contains an event followed by the
event itself (log rotation between two appends) does no harm.

A DISPENSE event is the lockout record: the app must append it to the log BEFORE it moves
the servo. A power cut between the two loses that dose (logged as dispensed, not dropped)
rather than ever dropping it twice.

Events come back already applied, so the app opens a log batch before each call that
returns events and closes it once they are written (LogStore.begin(now, `batch_bytes`, the
worst case of one call) ... end()): a rotation's checkpoint then never counts an event that
is not on flash yet.

How the app drives it (dispenser/controller.py):
    boot:     engine = Engine(schedstore.load(path)); the log store's checkpoint snapshot is
              engine.checkpoint; engine.restore(store.replay_records(), clock valid), both
              inside controller.CHECKPOINT_CODE. The controller logs the BOOT record itself.
    loop:     log(engine.tick(now)); show engine.indication(now); sleep until
              engine.next_wake(now), a press or a serial command.
    press:    for each event of engine.press(now, long): append it to the log; for a
              DISPENSE, deliver fields[2] pills from hopper logrec.unpack_hopper(fields[1]);
              if fewer arrived, log(engine.jammed(now, fields[0], hopper, delivered)).
    commands: clock_set, refill, install (after schedstore.install), each returns events.
where log(events) appends each (t, kind, fields) to the store in order, inside the batch
Controller.decide opened before the engine call.
"""

from dispenser.compat import const
from dispenser.core import caps, logrec
from dispenser.core.localtime import MIN_VALID_TIME, MINUTE_S, local_day, to_utc
from dispenser.core.windows import DayPlan, slots_in_use, waited_doses


class ScheduleError(Exception):
    """A schedule the device refuses, said in numbers only (pillctl.schedule.refusal has the
    words): `code` is one of dispenser.core.schedule's E_* (logged, and sent in a refused
    schedule.put reply with the rest); `path` names the member at fault by keys and list
    indices, as ("doses", 2, "pills"), where the host reads what the schedule says;
    `values` are the numbers the check computed or compared with, as (amount, limit)."""

    path: tuple

    def __init__(self, code, values=()):
        super().__init__(code)
        self.code = code
        self.path = ()
        self.values = values


class Schedule:
    """A checked schedule, as `dispenser.core.schedule.parse(data)` builds it. It lives here, with
    the little the running engine needs, so the check itself can be unloaded once it ran
    (compat.unload): nothing that stays in RAM refers to dispenser.core.schedule's code."""

    sha: str
    name: str
    tz: str
    utc: list
    comps: list
    slots: list
    slot_keys: list
    doses: list
    items: list
    overrides: list
    signers: list
    caps: list
    spacing: list
    steps: list
    snooze: int

    def hash_prefix(self):
        """First 32 bits of the sha256, as logged in SCHEDULE records."""
        return int(self.sha[:8], 16)

    def comp_for_hopper(self, hopper):
        for comp in self.comps:
            if comp.hopper == hopper:
                return comp
        return None


# Indication.status values (which one wins is decided in Engine.indication).
STATUS_IDLE = const(0)
STATUS_DUE = const(1)
STATUS_TIME_UNKNOWN = const(2)
STATUS_NOTHING_DUE = const(3)
STATUS_REFUSED = const(4)
STATUS_ERROR = const(5)  # a jammed compartment, or the log not replayed yet
STATUS_LOW = const(6)
STATUS_NAMES = ("idle", "due", "time_unknown", "nothing_due", "refused", "error", "low")

# How a dose or item instance of the current day was resolved (absent = still pending).
DONE = const(1)  # dispensed, or item confirmed
MISSED = const(2)
_REFUSED_CAP = const(3)  # a cap refusal cannot get better later the same day
NOT_DUE = const(4)  # its window closed before the schedule was installed or the clock known

# How long a press's answer (nothing due / refused) is shown.
FLASH_S = const(3)


class Indication:
    """What the LEDs and the buzzer should show. One instance, updated in place.

    status: STATUS_*; level: reminder level 0..3 (0 = silent, also while snoozed);
    due_mask / low_mask / jam_mask: bit h = hopper h's compartment LED.
    """

    def __init__(self):
        self.status = STATUS_IDLE
        self.level = 0
        self.due_mask = 0
        self.low_mask = 0
        self.jam_mask = 0


class Engine:
    def __init__(self, schedule, on_day_end=None):
        self.schedule = schedule
        # Called with the engine just before its daily state moves to a later day: a reader
        # of the log (the host's report) takes each day's final verdicts from it.
        self.on_day_end = on_day_end
        self.ready = False  # True after restore(): nothing is dispensed before the replay
        self.clock_known = False  # set by the app from the RTC, or by clock_set()
        self.stock = [logrec.UNKNOWN_STOCK] * 3  # per hopper; unknown until the first refill
        self.low_flags = 0
        self.jam_flags = 0
        self.day = -1  # local day the daily state below belongs to
        self.totals = [0, 0, 0, 0]  # per nutrient code, dispensed on self.day
        self.past_d = [0] * caps.PAST_DAYS  # vitamin D given 1..6 local days before self.day
        self.resolved = {}  # dose/item key -> DONE | MISSED | _REFUSED_CAP | NOT_DUE, on self.day
        self.refusals = {}  # dose key -> reason of its latest refusal on self.day
        # item key, or key of a dose a spacing rule waits on -> UTC time it was last taken
        # (confirmed, dispensed)
        self.confirms = {}
        self.reminded = {}  # slot key -> highest reminder level logged on self.day
        self.snoozed = {}  # slot key -> UTC end of the snooze
        self.schedule_hash = 0  # hash prefix of the schedule the log names last (0: none)
        self.unread_bytes = 0  # of CHECKPOINT records replayed that this firmware cannot read
        self._flash_status = STATUS_IDLE
        self._flash_at = 0  # when the press answer started showing (0: none)
        self._indication = Indication()
        self._plan_day = -1
        self._alloc_plan()

    # ----- state changes: only here ------------------------------------------------------

    def apply(self, t, kind, fields):
        """Fold one event (live, or replayed from the log) into the state."""
        if kind == logrec.REFILL:
            hopper, count = fields
            self.stock[hopper] = count
            self.low_flags &= ~(1 << hopper)
            self.jam_flags &= ~(1 << hopper)  # refilling means the hopper was opened and cleared
        elif kind == logrec.LOW:
            self.low_flags |= 1 << fields[0]
        elif kind == logrec.JAM:
            self.jam_flags |= 1 << fields[1]
        elif kind == logrec.CHECKPOINT:
            self._restore_checkpoint(fields)
        elif kind == logrec.CONFIRM:
            self.confirms[fields[0]] = t
            self.plan.moved()  # a spacing hold may move
            self._resolve(t, fields[0], DONE)
        elif kind == logrec.DISPENSE:
            key, packed, pills, amount = fields
            if self._resolve(t, key, DONE):
                if key in self._timed_keys:  # an item's reminder waits on this intake
                    self.confirms[key] = t
                    self.plan.moved()
                self.totals[logrec.unpack_nutrient(packed)] += amount
                hopper = logrec.unpack_hopper(packed)
                if self.stock[hopper] != logrec.UNKNOWN_STOCK:
                    self.stock[hopper] = max(0, self.stock[hopper] - pills)
        elif kind == logrec.MISSED:
            self._resolve(t, fields[0], MISSED)
        elif kind == logrec.SCHEDULE:
            self.schedule_hash = fields[0]
            self._excuse_closed_windows(t)
        elif kind == logrec.CLOCK_SET:
            if fields[0] < MIN_VALID_TIME:  # the clock was unknown until now
                self._excuse_closed_windows(t)
        elif kind == logrec.REFUSED:
            if self._same_day(t):
                self.refusals[fields[0]] = fields[1]
            if fields[1] == logrec.REASON_CAP or fields[1] == logrec.REASON_CEILING:
                self._resolve(t, fields[0], _REFUSED_CAP)
        elif kind == logrec.REMIND:
            if self._same_day(t):
                self.reminded[fields[0]] = max(fields[1], self.reminded.get(fields[0], 0))
        elif kind == logrec.SNOOZE:
            if self._same_day(t):
                self.snoozed[fields[0]] = t + self.schedule.snooze * MINUTE_S
        # BOOT, ERROR and unknown kinds carry no engine state.

    def _restore_checkpoint(self, payload):
        """apply()'s CHECKPOINT: the whole state the record holds replaces the engine's."""
        # Imported here: the shell keeps the checkpoint code resident only for a replay and
        # a rotation (controller.CHECKPOINT_CODE).
        from dispenser.core import checkpoint

        try:
            state = checkpoint.decode(payload)
        except ValueError:  # a layout of other firmware: replay goes on without it, and
            self.unread_bytes += logrec.OVERHEAD + len(payload)  # the boot logs it
            return
        (
            self.day,
            self.stock,
            self.low_flags,
            self.jam_flags,
            self.totals,
            self.confirms,
            self.resolved,
            self.refusals,
            self.reminded,
            self.snoozed,
            self.past_d,
            self.schedule_hash,
        ) = state
        self.plan.moved()

    def _excuse_closed_windows(self, t):
        # A dose whose window had already closed when its schedule arrived, or when the
        # device learnt the time, was never due: nobody was reminded of it, so it is not
        # logged as missed. That includes what was still open on an earlier day the
        # engine had not closed (the clock was lost overnight, the board was off).
        if t < MIN_VALID_TIME:
            return
        day = local_day(self.schedule.utc, t)
        if self.day >= 0 and day > self.day:
            self._excuse_day(self.day, t)
        if self._same_day(t):
            self._excuse_day(day, t)

    def _excuse_day(self, day, t):
        self.plan.go_to(day)
        for i in range(len(self.plan.today)):
            key = self.plan.today[i].key
            if key not in self.resolved and self.plan.window(i, self.confirms)[2] < t:
                self.resolved[key] = NOT_DUE

    def _same_day(self, t):
        day = local_day(self.schedule.utc, t)
        self._roll_to(day)
        return day == self.day

    def _resolve(self, t, key, how):
        """Mark an instance of t's day resolved; False if it already was (or is in the past)."""
        if not self._same_day(t) or key in self.resolved:
            return False
        self.resolved[key] = how
        return True

    def _roll_to(self, day):
        # The daily state only moves forward: a clock stepped back to an earlier day must
        # not reopen that day's doses.
        if day > self.day:
            if self.on_day_end is not None and self.day >= 0:
                self.on_day_end(self)
            caps.shift_week(self.past_d, day - self.day, self.day >= 0, self.totals[0])
            self.day = day
            self.totals = [0, 0, 0, 0]
            self.resolved = {}
            self.refusals = {}
            self.reminded = {}
            self.snoozed = {}
            self._forget_confirms_before(day - 1)
            self.plan.moved()

    def _forget_confirms_before(self, day):
        # A spacing gap is at most a day, so a confirmation from before yesterday holds
        # nothing back any more; dropping it keeps the checkpoint bounded. (A method of its
        # own: the comprehension's closure cells would otherwise be allocated at every
        # _roll_to call, that is at every wake.)
        tab = self.schedule.utc
        for key in [k for k in self.confirms if local_day(tab, self.confirms[k]) < day]:
            del self.confirms[key]

    def checkpoint(self):
        """The payload of a CHECKPOINT record: everything replay needs, for the log's
        rotation (dispenser.core.checkpoint)."""
        from dispenser.core import checkpoint  # as in apply: resident only while it runs

        return checkpoint.encode(
            self.day,
            self.stock,
            self.low_flags,
            self.jam_flags,
            self.totals,
            self.past_d,
            self.schedule_hash,
            (self.confirms, self.resolved, self.refusals, self.reminded, self.snoozed),
            (self._timed_keys, self._entry_keys, self._slot_keys),
        )

    # ----- lifecycle ---------------------------------------------------------------------

    def restore(self, records, clock_known=None):
        """Rebuild the state from the log's records, (seq, t, kind, fields), oldest first;
        `clock_known`: whether the clock holds a valid time now (None: as it was). Until
        this has run the engine dispenses nothing."""
        for rec in records:
            self.apply(rec[1], rec[2], rec[3])
        self.ready = True
        if clock_known is not None:
            self.clock_known = clock_known

    def clock_set(self, now, previous):
        """The clock was set to `now` (from `previous`, 0 if it was unknown)."""
        self.clock_known = True
        events = []
        self._emit(events, now, logrec.CLOCK_SET, (previous,))
        return events

    def install(self, now, schedule):
        """Switch to a checked schedule (dispenser.core.schedule.parse). The day's lockout and
        totals carry over, because records name doses by id key, not by position."""
        self.schedule = schedule
        self._alloc_plan()
        events = []
        self._emit(events, now, logrec.SCHEDULE, (schedule.hash_prefix(),))
        return events

    def refill(self, now, hopper, count):
        events = []
        self._emit(events, now, logrec.REFILL, (hopper, count))
        self._check_low(events, now, hopper)
        return events

    def jammed(self, now, dose_key, hopper, delivered):
        """The app gave up on a dispense after its bounded retries: mark the hopper jammed.
        The dose stays counted as dispensed (the sensor may have missed a pill)."""
        events = []
        self._emit(events, now, logrec.JAM, (dose_key, hopper, delivered))
        return events

    def _emit(self, events, t, kind, fields):
        self.apply(t, kind, fields)
        events.append((t, kind, fields))

    def _usable(self, now):
        return self.ready and self.clock_known and now >= MIN_VALID_TIME

    # ----- the day plan ------------------------------------------------------------------

    def _alloc_plan(self):
        sched = self.schedule
        used = slots_in_use(sched)
        self._timed_keys = [e.key for e in sched.items + waited_doses(sched)]
        self._entry_keys = [entry.key for entry in sched.doses + sched.items]
        self._slot_keys = [sched.slot_keys[si] for si in used]
        # Worst case bytes one engine call logs: a missed record per entry of two days, a
        # reminder and a snooze per slot, per dose a dispense, a low and a jam, per item a
        # confirm or a spacing refusal, a refill and its low. The log makes that much room
        # first (LogStore.begin).
        n_doses = len(sched.doses)
        n_items = len(sched.items)
        self.batch_bytes = 32 * (n_doses + n_items) + 33 * len(used) + 54 * n_doses
        self.batch_bytes += 17 * n_items + 34
        self.plan = DayPlan(sched)

    def _catch_up(self, now, events):
        """Log what the passage of time decided: missed entries, a new day, reminders.
        Returns False when the clock is behind the engine's day (nothing may happen)."""
        day = local_day(self.schedule.utc, now)
        if day < self.day:
            return False
        if self.day >= 0 and day > self.day:
            self.plan.go_to(self.day)
            self._log_missed(self.plan.midnight + 1, events)  # every pending entry of the old day
        self._roll_to(day)
        self.plan.go_to(day)
        self._log_missed(now, events)
        self._log_reminders(now, events)
        return True

    def _log_missed(self, now, events):
        for i in range(len(self.plan.today)):
            key = self.plan.today[i].key
            if key not in self.resolved:
                closes = self.plan.window(i, self.confirms)[2]
                if closes < now:
                    self._emit(events, closes, logrec.MISSED, (key,))

    def _slot_reminder(self, si, now):
        """(hopper mask, reminder start) of slot si's entries due at `now` (start 0: none)."""
        mask = 0
        start = 0
        for i in range(len(self.plan.today)):
            entry = self.plan.today[i]
            if entry.slot != si or entry.key in self.resolved:
                continue
            _, entry_start, closes, _ = self.plan.window(i, self.confirms)
            if entry_start <= now <= closes:
                if start == 0 or entry_start < start:
                    start = entry_start
                if entry.comp is not None:
                    mask |= 1 << entry.comp.hopper
        return mask, start

    def _level(self, si, start, now):
        """Reminder level of slot si at `now` (0 while snoozed)."""
        elapsed = now - start
        snooze_end = self.snoozed.get(self.schedule.slot_keys[si], 0)
        if snooze_end:
            if now < snooze_end:
                return 0
            elapsed = min(elapsed, now - snooze_end)  # counted from the snooze's end
        elapsed //= MINUTE_S
        level = 0
        for minutes, step_level in self.schedule.steps:
            if minutes <= elapsed:
                level = step_level
        return level

    def _log_reminders(self, now, events):
        # Only the start (first level) and the top level are logged: enough to tell a late
        # press from an ignored reminder, at a fraction of the flash.
        steps = self.schedule.steps
        top = steps[len(steps) - 1][1]
        for si in range(len(self.schedule.slots)):
            start = self._slot_reminder(si, now)[1]
            if start == 0:
                continue
            level = self._level(si, start, now)
            key = self.schedule.slot_keys[si]
            logged = self.reminded.get(key, 0)
            if level > logged and (logged == 0 or level == top):
                self._emit(events, now, logrec.REMIND, (key, level))

    # ----- what the app calls ------------------------------------------------------------

    def tick(self, now):
        """Let time pass to `now`: returns the events to log (missed, reminders)."""
        events = []
        if self._usable(now):
            self._catch_up(now, events)
        return events

    def press(self, now, long=False):
        """A button press. Short: dispense everything due in the current window (DISPENSE
        events, in schedule order; the app drops their pills one compartment after another)
        and confirm reminder-only items. Long: snooze the active reminders."""
        events = []
        if not self._usable(now):
            return events  # indication() already shows time unknown / not ready
        if not self._catch_up(now, events):
            self._flash(now, STATUS_NOTHING_DUE)  # clock behind the day already handled
            return events
        if long:
            self._snooze(now, events)
            return events
        found = False
        refused = False
        # items first, so a confirmation in this very press already holds spaced doses
        for pass_doses in (False, True):
            for i in range(len(self.plan.today)):
                entry = self.plan.today[i]
                if entry.key in self.resolved or (entry.comp is not None) != pass_doses:
                    continue
                opens, _, closes, hold = self.plan.window(i, self.confirms)
                if not opens <= now <= closes:
                    continue
                found = True
                if pass_doses:
                    refused = not self._dispense(entry, now, hold, events) or refused
                elif now < hold:  # the item's reminder waits after calcium: not yet
                    self._emit(events, now, logrec.REFUSED, (entry.key, logrec.REASON_SPACING))
                    refused = True
                else:
                    self._emit(events, now, logrec.CONFIRM, (entry.key,))
        if not found:
            self._flash(now, STATUS_NOTHING_DUE)
        elif refused:
            self._flash(now, STATUS_REFUSED)
        return events

    def _dispense(self, dose, now, hold, events):
        comp = dose.comp
        hopper = comp.hopper
        reason = caps.refusal(
            dose,
            now,
            hold,
            self.stock[hopper],
            self.jam_flags & (1 << hopper),
            self.totals,
            self.schedule.caps,
            self.past_d,
        )
        if reason:
            self._emit(events, now, logrec.REFUSED, (dose.key, reason))
            return False
        packed = logrec.pack_hopper_nutrient(comp.hopper, comp.nut)
        self._emit(events, now, logrec.DISPENSE, (dose.key, packed, dose.pills, dose.amount))
        self._check_low(events, now, comp.hopper)
        return True

    def _check_low(self, events, now, hopper):
        comp = self.schedule.comp_for_hopper(hopper)
        stock = self.stock[hopper]
        if comp is None or stock == logrec.UNKNOWN_STOCK or self.low_flags & (1 << hopper):
            return
        if stock <= comp.low:
            self._emit(events, now, logrec.LOW, (hopper, stock))

    def _open_today(self, now):
        """Indices in the day plan of today's unresolved entries (none while the clock is
        unusable or behind the engine's day)."""
        if not self._usable(now) or local_day(self.schedule.utc, now) != self.day:
            return []
        self.plan.go_to(self.day)
        return [
            i for i in range(len(self.plan.today)) if self.plan.today[i].key not in self.resolved
        ]

    def pending(self, now):
        """Today's unresolved doses and items, for `status`: a list of
        (id, slot id, window opens, reminder start, window closes) in UTC, schedule order."""
        result = []
        for i in self._open_today(now):
            entry = self.plan.today[i]
            opens, start, closes, _ = self.plan.window(i, self.confirms)
            result.append((entry.id, self.schedule.slots[entry.slot].id, opens, start, closes))
        return result

    def holds(self, now):
        """Why a spacing hold moved the reminder of today's unresolved entries, for `status`:
        a list of (id, held until, id of the dose or item whose intake holds it, UTC time
        it was taken)."""
        result = []
        for i in self._open_today(now):
            entry = self.plan.today[i]
            hold, cause = self.plan.hold(entry, self.confirms)
            if cause is not None and hold > self.plan.window(i, self.confirms)[0]:
                result.append((entry.id, hold, cause.id, self.confirms[cause.key]))
        return result

    def _snooze(self, now, events):
        for si in range(len(self.schedule.slots)):
            if self._slot_reminder(si, now)[1]:
                self._emit(events, now, logrec.SNOOZE, (self.schedule.slot_keys[si],))
        if not events:
            self._flash(now, STATUS_NOTHING_DUE)

    def _flash(self, now, status):
        self._flash_status = status
        self._flash_at = now

    def _flash_left(self, now):
        """Seconds the press answer still shows (0 or less: over)."""
        if not self._flash_at:
            return 0
        return self._flash_at - now + FLASH_S

    def indication(self, now):
        """The Indication for `now` (the same object every call, updated in place)."""
        ind = self._indication
        ind.level = 0
        ind.due_mask = 0
        ind.low_mask = self.low_flags
        ind.jam_mask = self.jam_flags
        if not self.ready:
            ind.status = STATUS_ERROR
            return ind
        if not self._usable(now):
            ind.status = STATUS_TIME_UNKNOWN
            return ind
        due = False
        day = local_day(self.schedule.utc, now)
        if day == self.day:
            self.plan.go_to(day)
            for si in range(len(self.schedule.slots)):
                mask, start = self._slot_reminder(si, now)
                if start:
                    due = True
                    ind.due_mask |= mask
                    ind.level = max(ind.level, self._level(si, start, now))
        if self._flash_left(now) > 0:
            ind.status = self._flash_status
        elif due:
            ind.status = STATUS_DUE
        elif self.jam_flags:
            ind.status = STATUS_ERROR
        elif self.low_flags:
            ind.status = STATUS_LOW
        else:
            ind.status = STATUS_IDLE
        return ind

    def next_wake(self, now):
        """The next UTC time after `now` at which tick() or indication() can change, so the
        app can sleep until then (a press wakes it earlier). None while the clock is unknown
        or the log is not replayed: only clock_set()/restore() change anything then."""
        if not self._usable(now):
            return None
        day = local_day(self.schedule.utc, now)
        if day < self.day:
            return to_utc(self.schedule.utc, self.day, 0)
        self.plan.go_to(day)
        # Seconds after now (small ints): only the result is a new epoch value.
        best = self.plan.midnight - now if day == self.day else 1
        left = self._flash_left(now)
        if 0 < left < best:
            best = left
        for i in range(len(self.plan.today)):
            if self.plan.today[i].key in self.resolved:
                continue
            _, start, closes, hold = self.plan.window(i, self.confirms)
            wait = start - now
            if 0 < wait < best:
                best = wait
            if hold:
                wait = hold - now
                if 0 < wait < best:
                    best = wait
            wait = closes - now + 1
            if 0 < wait < best:
                best = wait
        for si in range(len(self.schedule.slots)):
            start = self._slot_reminder(si, now)[1]
            if start:
                best = self._next_step(si, start, now, best)
        return now + best

    def _next_step(self, si, start, now, best):
        """`best` (seconds after now), or sooner if slot si's reminder level changes then."""
        base = start - now
        snooze_end = self.snoozed.get(self.schedule.slot_keys[si], 0)
        if snooze_end:
            if now < snooze_end:
                return min(best, snooze_end - now)
            base = max(base, snooze_end - now)
        for minutes, _ in self.schedule.steps:
            wait = base + minutes * MINUTE_S
            if 0 < wait < best:
                best = wait
        return best
