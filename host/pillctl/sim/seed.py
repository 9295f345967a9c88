"""Fill a sim board's flash log with real records before it boots (bench and tests)."""

from __future__ import annotations

from pathlib import Path

from dispenser.core import logrec
from dispenser.logstore import LogStore

FIRST_T = 1_795_000_000


def seed_log(fs: Path, nbytes: int, budget: int) -> None:
    """Append hourly dispense records to fs/log until it holds about `nbytes`."""
    store = LogStore(str(fs / "log"), budget=budget)
    t = FIRST_T
    dose = logrec.id_key("ca-dinner")
    while store.info()["bytes"] < nbytes:
        t += 3600
        store.append(t, logrec.DISPENSE, (dose, 2 | 2 << 4, 1, 250))
