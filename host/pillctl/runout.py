"""When each compartment runs out at the schedule's rate: the date, and a warning days ahead.

Walks the schedule's own doses day by day (`dispenser.schedule.occurs_on`, as the device
decides what is due), so weekday-only doses and a regimen's end are counted as they happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dispenser.localtime import weekday
from dispenser.schedule import Schedule, occurs_on

HORIZON_DAYS = 400  # further out than this, "runs out" is not news
WARN_DAYS = 7  # warn a week ahead: time to order more
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class RunOut:
    compartment: str
    stock: int
    day: int | None  # local day number of the first dose it cannot give; None: not soon

    @property
    def date(self) -> date | None:
        return None if self.day is None else _EPOCH + timedelta(days=self.day)

    def days_left(self, today: int) -> int | None:
        return None if self.day is None else self.day - today

    def warn(self, today: int) -> bool:
        left = self.days_left(today)
        return left is not None and left <= WARN_DAYS

    def text(self, today: int) -> str:
        """`2026-12-24, in 27 days`; `2026-11-29, in 2 days: refill soon` within WARN_DAYS."""
        left = self.days_left(today)
        if left is None:
            return f"not within {HORIZON_DAYS} days"
        when = "today" if left == 0 else "tomorrow" if left == 1 else f"in {left} days"
        return f"{self.date}, {when}" + (": refill soon" if self.warn(today) else "")


def run_out(sched: Schedule, hopper: int, stock: int, today: int, due_today) -> RunOut | None:
    """When hopper's `stock` pills no longer cover a dose; `due_today`: ids of today's doses
    still to come (the rest of today is already dispensed or over). None: no compartment."""
    comp = sched.comp_for_hopper(hopper)
    if comp is None:
        return None
    left = stock
    for day in range(today, today + HORIZON_DAYS):
        wd = weekday(day)
        for dose in sched.doses:
            if dose.comp is not comp or not occurs_on(dose, day, wd):
                continue
            if day == today and dose.id not in due_today:
                continue
            if left < dose.pills:
                return RunOut(comp.id, stock, day)
            left -= dose.pills
    return RunOut(comp.id, stock, None)
