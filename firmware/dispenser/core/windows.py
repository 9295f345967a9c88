"""The day plan: which doses and items occur on a local day, their slots' windows in UTC,
and the spacing holds that move an entry's reminder and stretch its window.

Derived from the schedule and the times things were taken, never state of its own: the
Engine owns one DayPlan per schedule, tells it when a confirmation may have moved a hold
(moved()), and passes the times taken in. Epoch values are computed once per day (the slot
windows) or after a confirmation (the entries' windows), never per wake.
"""

from dispenser.core.localtime import MINUTE_S, minutes_into, to_utc, weekday


def occurs_on(entry, day, weekday):
    """Whether a dose or item exists on local `day` (with `weekday`, Monday = 0)."""
    return entry.first_day <= day <= entry.last_day and (entry.days >> weekday) & 1


def waited_doses(sched):
    """The doses whose intake time a spacing rule waits on: those of a nutrient after which
    an item's reminder must wait (the rule's `wait`)."""
    nuts = 0
    for spacing in sched.spacing:
        if spacing[3]:
            nuts |= 1 << spacing[1]
    return [dose for dose in sched.doses if nuts >> dose.comp.nut & 1]


def slots_in_use(sched):
    """Indices of the slots that hold at least one dose or item, in order."""
    used = [False] * len(sched.slots)
    for entry in sched.doses + sched.items:
        used[entry.slot] = True
    return [i for i in range(len(used)) if used[i]]


class DayPlan:
    """One schedule's plan of the day `day` (-1: none yet): `today`, its entries in
    schedule order; `midnight`, the UTC start of the next day; each entry's window on
    demand (window())."""

    def __init__(self, schedule):
        self.schedule = schedule
        n = len(schedule.slots)
        self._opens = [0] * n
        self._starts = [0] * n
        self._closes = [0] * n
        self.today = []
        self.midnight = 0
        self.day = -1
        self._windows = None

    # The comprehensions live in methods of their own (_plan, _all_windows): a variable a
    # comprehension uses becomes a closure cell, allocated at every call of the method that
    # holds it, and go_to() and window() run at every wake.
    def go_to(self, day):
        """Plan `day`: its entries and slot windows, computed once per day."""
        if day != self.day:
            self._plan(day)

    def _plan(self, day):
        sched = self.schedule
        tab = sched.utc
        for i in range(len(sched.slots)):
            slot = sched.slots[i]
            self._opens[i] = to_utc(tab, day, slot.opens)
            self._starts[i] = to_utc(tab, day, slot.at)
            self._closes[i] = to_utc(tab, day, slot.closes)
        wd = weekday(day)
        self.today = [e for e in sched.doses + sched.items if occurs_on(e, day, wd)]
        self.midnight = to_utc(tab, day + 1, 0)
        self.day = day
        self._windows = None

    def moved(self):
        """Something was taken (or the day rolled): the entries' windows are computed
        again when next asked for."""
        self._windows = None

    def window(self, i, taken):
        """(opens, reminder start, closes, held until) in UTC of `today[i]`; `taken`: key ->
        UTC time it was last taken. Cached until moved(), which may come in the middle of a
        loop over the entries."""
        windows = self._windows
        if windows is None:
            windows = self._windows = self._all_windows(taken)
        return windows[i]

    def _all_windows(self, taken):
        return [self._window(entry, taken) for entry in self.today]

    def hold(self, entry, taken):
        """(UTC time before which a spacing rule holds this entry back, the dose or item
        whose intake holds it; (0, None): none). A dose waits `gap` minutes after its rule's
        item was confirmed; an item's reminder waits `wait` minutes after a dose of its
        rule's nutrient was dispensed, both from the times actually logged (`taken`)."""
        sched = self.schedule
        hold = 0
        cause = None
        for item_index, nut, gap, wait in sched.spacing:
            item = sched.items[item_index]
            if entry.comp is not None:
                if nut == entry.comp.nut:
                    hold, cause = _later_hold(hold, cause, taken, item, gap)
            elif wait and item.key == entry.key:
                for dose in sched.doses:
                    if dose.comp.nut == nut:
                        hold, cause = _later_hold(hold, cause, taken, dose, wait)
        return hold, cause

    def _window(self, entry, taken):
        """A spacing hold moves the reminder to the hold's end and stretches the window to
        the hold's end plus the slot's `late`, at most to local midnight."""
        slot = self.schedule.slots[entry.slot]
        opens = self._opens[entry.slot]
        start = self._starts[entry.slot]
        closes = self._closes[entry.slot]
        hold = self.hold(entry, taken)[0]
        if hold > opens:
            start = max(start, hold)
            tab = self.schedule.utc
            minute = minutes_into(tab, self.day, hold)
            closes = max(closes, to_utc(tab, self.day, min(minute + slot.closes - slot.at, 1440)))
        return opens, start, closes, hold


def _later_hold(hold, cause, taken, entry, minutes):
    """The later of (hold, cause) and `minutes` after `entry` was last taken."""
    t = taken.get(entry.key)
    if t is not None and t + minutes * MINUTE_S > hold:
        return t + minutes * MINUTE_S, entry
    return hold, cause
