"""Can this dose be given: the schedule's daily caps, the firmware's nutrient ceilings (per
day, per dose, and the 7-day vitamin D window) and the other refusals a press meets.

Plain functions over explicit arguments; the Engine owns the state they read
(dispenser.core.engine) and changes it only in its apply().
"""

from dispenser.compat import const
from dispenser.core import logrec

# Only these values: the rest of dispenser.core.nutrients serves the schedule check, which
# is resident only while it runs (controller.SCHEDULE_CODE).
from dispenser.core.nutrients import CEILINGS, D_DOSE_CEILING, D_WEEK_CEILING

PAST_DAYS = const(6)  # past_d: the local days before today in the 7-day vitamin D window


def refusal(dose, now, hold, stock, jammed, totals, caps, past_d):
    """The REFUSED reason (logrec.REASON_*) for giving `dose` at `now`, or 0: it may drop.
    `hold`: UTC end of a spacing hold on it (0: none); `stock`: its hopper's count;
    `jammed`: its hopper is jammed; `totals`: today's amounts per nutrient; `caps`: the
    schedule's; `past_d`: vitamin D of the 6 days before today."""
    comp = dose.comp
    if jammed:
        return logrec.REASON_JAMMED
    if now < hold:
        return logrec.REASON_SPACING
    if totals[comp.nut] + dose.amount > caps[comp.nut]:
        return logrec.REASON_CAP
    if over_ceiling(totals, past_d, comp.nut, dose.amount):
        return logrec.REASON_CEILING
    if stock != logrec.UNKNOWN_STOCK and stock < dose.pills:
        return logrec.REASON_EMPTY
    return 0


def over_ceiling(totals, past_d, nut, amount):
    """Whether `amount` more of nutrient `nut` today would pass a firmware ceiling, which
    no schedule and no override lifts (docs/safety-rules.md)."""
    ceiling = CEILINGS[nut]
    if ceiling is not None and totals[nut] + amount > ceiling:
        return True
    if nut != 0:
        return False
    if amount > D_DOSE_CEILING:
        return True
    week = totals[0] + amount
    for total in past_d:
        week += total
    return week > D_WEEK_CEILING


def shift_week(past_d, days, had_day, today_d):
    """Move the 7-day vitamin D window `days` days on, in place: `today_d` (the day being
    left; none if not `had_day`) becomes the total of `days` days ago, days in between gave
    nothing. past_d[i] is the day i + 1 days before the new day."""
    for i in range(5, -1, -1):
        src = i - days
        if not had_day or src < -1:
            past_d[i] = 0
        elif src == -1:
            past_d[i] = today_d
        else:
            past_d[i] = past_d[src]
