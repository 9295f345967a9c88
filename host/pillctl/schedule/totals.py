"""Per-calendar-day nutrient totals.

A dose counts only on the weekdays and dates it runs, so totals are computed for real
calendar days. Which doses are active changes only at a start date or the day after an end
date, and otherwise repeats weekly, so the week after each such boundary (plus one week
before all of them) visits every distinct day the schedule can produce.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from pillctl.schedule.model import Dose, Schedule

_BEFORE_ALL_DATES = date(1, 1, 1)


@dataclass(frozen=True)
class DayPlan:
    day: date
    doses: tuple[Dose, ...]
    totals: dict[str, int]
    """Nutrient -> amount in device units, over all doses active that day."""


def dose_amount(schedule: Schedule, dose: Dose) -> tuple[str | None, int]:
    comp = schedule.compartment(dose.compartment)
    return comp.nutrient, dose.pills * (comp.per_pill or 0)


def _representative_days(schedule: Schedule) -> list[date]:
    boundaries = {_BEFORE_ALL_DATES}
    for entry in schedule.doses:
        if entry.start is not None:
            boundaries.add(entry.start)
        if entry.end is not None:
            boundaries.add(entry.end + timedelta(days=1))
    return sorted({first + timedelta(days=offset) for first in boundaries for offset in range(7)})


def plan_for(schedule: Schedule, day: date) -> DayPlan:
    doses = tuple(dose for dose in schedule.doses if dose.active_on(day))
    totals: dict[str, int] = defaultdict(int)
    for dose in doses:
        nutrient, amount = dose_amount(schedule, dose)
        if nutrient is not None:
            totals[nutrient] += amount
    return DayPlan(day, doses, dict(totals))


def dosing_days(schedule: Schedule) -> list[DayPlan]:
    """One plan per distinct kind of day on which at least one dose is given."""
    plans = (plan_for(schedule, day) for day in _representative_days(schedule))
    return [plan for plan in plans if plan.doses]


def daily_maximum(schedule: Schedule) -> dict[str, int]:
    """The largest planned daily total of each nutrient: the device's daily caps."""
    caps: dict[str, int] = {}
    for plan in dosing_days(schedule):
        for nutrient, amount in plan.totals.items():
            caps[nutrient] = max(caps.get(nutrient, 0), amount)
    return {nutrient: amount for nutrient, amount in caps.items() if amount > 0}
