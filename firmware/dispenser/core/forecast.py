"""Two answers every reader of the dispenser gives the same way: when a compartment runs out,
and how a day went. The device's `status` and its MQTT state, and the host's `status` and
report, all ask these functions, so none of them restates the rules.

Pure: no I/O, no clock reads; the day and the engine's state are arguments. Cheap enough to
run per request on a Pico: a forecast walks whole weeks at once (a few dozen steps for a
year), and a day's tally looks at that day's entries only, never at the log.
"""

from dispenser.compat import const
from dispenser.core import logrec
from dispenser.core.engine import DONE, NOT_DUE
from dispenser.core.localtime import civil_from_days, weekday
from dispenser.core.windows import occurs_on

HORIZON_DAYS = const(400)  # further out than this, "runs out" is not news

# How one dose or item instance of a day counts (an index into today_counts' list).
TAKEN = const(0)  # dispensed, or the item confirmed
REFUSED = const(1)  # not taken, and the device refused it at least once that day
MISSED = const(2)  # not taken, window closed, never refused
PENDING = const(3)  # its window is still open: not counted yet


def outcome(how, refused, over):
    """How an instance counts: TAKEN, REFUSED, MISSED, PENDING, or None when it was never due
    (its window closed before its schedule was installed or the clock was known).
    how: the engine's resolution (Engine.resolved; None: unresolved); refused: whether the
    device refused it that day (Engine.refusals); over: whether its day has ended."""
    if how == NOT_DUE:
        return None
    if how == DONE:
        return TAKEN
    if how is None and not over:
        return PENDING
    return REFUSED if refused else MISSED


def day_outcomes(schedule, day, resolved, refusals, over):
    """(entry, outcome) for each dose and item of `schedule` on local `day`, in schedule
    order, from the engine's verdicts of that day (resolved, refusals); entries never due
    are left out."""
    result = []
    wd = weekday(day)
    for entry in schedule.doses + schedule.items:
        if occurs_on(entry, day, wd):
            found = outcome(resolved.get(entry.key), entry.key in refusals, over)
            if found is not None:
                result.append((entry, found))
    return result


def today_counts(engine, today):
    """[taken, refused, missed] of local day `today` as the engine stands (open windows are
    not counted yet); zeros when the engine has not reached that day or it is unknown
    (negative)."""
    counts = [0, 0, 0, 0]
    if today >= 0 and engine.day == today:
        for _, found in day_outcomes(
            engine.schedule, today, engine.resolved, engine.refusals, False
        ):
            counts[found] += 1
    return counts[:3]


def percent(taken, counted):
    """Whole percent taken, rounded half up; None when nothing was counted."""
    if not counted:
        return None
    return (200 * taken + counted) // (2 * counted)


def run_out_day(engine, hopper, today):
    """The local day of the first dose `hopper`'s stock cannot cover, at the schedule's own
    doses (weekdays, `from`/`to`) from local day `today`, whose doses the engine has
    resolved (taken, missed, never due) are not due again. None: no compartment on that
    hopper, its stock unknown, the day unknown (negative), or enough for HORIZON_DAYS."""
    sched = engine.schedule
    comp = sched.comp_for_hopper(hopper)
    left = engine.stock[hopper]
    if comp is None or left == logrec.UNKNOWN_STOCK or today < 0:
        return None
    doses = [dose for dose in sched.doses if dose.comp is comp]
    resolved = engine.resolved if engine.day == today else {}
    end = today + HORIZON_DAYS
    day = today
    boundary = week = 0  # the doses taking part change only at `boundary` (a from/to)
    while day < end:
        if day > today:
            if day >= boundary:
                boundary = end
                week = 0  # pills a week while no dose starts or ends
                for dose in doses:
                    if day < dose.first_day < boundary:
                        boundary = dose.first_day
                    if day <= dose.last_day < boundary:  # first: `to` may be 2^30 (no end)
                        boundary = dose.last_day + 1
                    if dose.first_day <= day <= dose.last_day:
                        days = dose.days
                        while days:
                            week += dose.pills * (days & 1)
                            days >>= 1
            # Whole weeks at once before the boundary: with at least a week's pills
            # left, a week passes without running out.
            weeks = (boundary - day) // 7
            if weeks and left >= week:
                if week:
                    weeks = min(weeks, left // week)
                left -= weeks * week
                day += 7 * weeks
                continue
        wd = weekday(day)
        for dose in doses:
            if occurs_on(dose, day, wd) and (day != today or dose.key not in resolved):
                if left < dose.pills:
                    return day
                left -= dose.pills
        day += 1
    return None


def date_text(day):
    """`2027-03-07` for a local day number (None stays None)."""
    if day is None:
        return None
    return "%04d-%02d-%02d" % civil_from_days(day)
