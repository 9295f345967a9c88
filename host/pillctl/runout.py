"""How a run-out date reads to a person: the date, how far off, and a warning days ahead.

The date itself is the firmware core's answer (`dispenser.core.forecast.run_out_day`): the device
puts it in its `status` reply and its MQTT state, and the report asks the same function of
the engine it replayed, so all of them say the same day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dispenser.core.forecast import HORIZON_DAYS

WARN_DAYS = 7  # warn a week ahead: time to order more
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class RunOut:
    day: int | None  # local day number of the first dose it cannot give; None: not soon

    @classmethod
    def from_text(cls, text: str | None) -> RunOut:
        """From the device's `runs_out` (`2027-03-07`, or null: not within the horizon)."""
        return cls(None if text is None else (date.fromisoformat(text) - _EPOCH).days)

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
