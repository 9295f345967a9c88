"""The soak's real-time phase: boards left running at wall speed through one meal after
another (tests/realtime.py: a reminder, its escalation, the cut-off), never stepped, while
the power-cut campaign loads the machine around them. A plain sim and a simulated Pico W
take turns on each thread. Every meal must log each record within 2 s of its second, with no
ERROR record and no reset (DESIGN.md invariant 13): `soak_realtime_faults` must be 0.
"""

from __future__ import annotations

import shutil
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from realtime import meal_board, records, timeline_problems, wait_for_the_miss

BOARDS = ("sim", "sim_w")


@dataclass
class RealtimeFigures:
    meals: int = 0
    faults: list[str] = field(default_factory=list)  # one line per meal that went wrong


class RealtimePhase:
    """`threads` boards living meals side by side from start() until finish(); each thread
    finishes the meal it is in, so every board lives at least one whole meal."""

    def __init__(self, workdir: Path, threads: int = 2) -> None:
        self._workdir = workdir
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.figures = RealtimeFigures()
        self._threads = [
            threading.Thread(target=self._live, args=(i,), daemon=True) for i in range(threads)
        ]

    def start(self) -> RealtimePhase:
        for thread in self._threads:
            thread.start()
        return self

    def finish(self) -> RealtimeFigures:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        return self.figures

    def _live(self, index: int) -> None:
        meal = 0
        while meal == 0 or not self._stop.is_set():
            board = BOARDS[(index + meal) % len(BOARDS)]
            workdir = self._workdir / f"realtime-{index}-{meal}"
            try:
                with meal_board(workdir, board=board) as sim:
                    wait_for_the_miss(sim)
                    problems = timeline_problems(records(sim))
            except Exception:  # a harness error is a fault of the meal, never swallowed
                problems = [traceback.format_exc()]
            with self._lock:
                self.figures.meals += 1
                if problems:
                    self.figures.faults.append(f"{board} meal {index}-{meal}: {problems}")
            if not problems:
                shutil.rmtree(workdir, ignore_errors=True)  # a failing one stays to look at
            meal += 1
