"""The doses a day owes, from the compiled schedule through the firmware's own engine."""

from __future__ import annotations

from dataclasses import dataclass

from dispenser.core import schedule
from dispenser.core.engine import Engine
from dispenser.core.localtime import local_day


@dataclass(frozen=True)
class Due:
    id: str
    key: int
    hopper: int
    pills: int
    slot: str
    opens: int  # UTC epoch seconds
    closes: int


class DayPlan:
    def __init__(self, data: bytes) -> None:
        self.schedule = schedule.parse(data)

    def doses(self, midnight_utc: int) -> list[Due]:
        """Every dose of the local day that contains `midnight_utc` + 3 h, with its window."""
        engine = Engine(self.schedule)
        engine.restore([])
        engine.clock_known = True
        # Early enough that no window of the day has opened (the day starts at local 00:00).
        now = midnight_utc + 3 * 3600
        engine.tick(now)
        by_id = {d.id: d for d in self.schedule.doses}
        return [
            Due(
                dose_id,
                by_id[dose_id].key,
                by_id[dose_id].comp.hopper,
                by_id[dose_id].pills,
                slot,
                opens,
                closes,
            )  # fmt: skip
            for dose_id, slot, opens, _start, closes in engine.pending(now)
            if dose_id in by_id
        ]

    def day_of(self, t: int) -> int:
        """The schedule's local day number of UTC time `t`."""
        return local_day(self.schedule.utc, t)
