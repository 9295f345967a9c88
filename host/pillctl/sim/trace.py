"""The sim's trace: every output change of the board, with real and simulated time."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass

MAX_EVENTS = 200_000


@dataclass
class TraceEvent:
    seq: int
    host_time: float  # time.time() on the host when the runner saw it
    kind: str  # out | wdt | clock | step | sim
    name: str  # led.status, servo.0, buzzer, ...
    value: str
    ticks_ms: int | None = None  # the board's ticks_ms()
    wall: float | None = None  # simulated UTC epoch seconds, None while unknown

    def as_dict(self) -> dict:
        return asdict(self)


class Trace:
    """A bounded, thread-safe list of events that readers page through by sequence number."""

    def __init__(self) -> None:
        self._events: deque[TraceEvent] = deque(maxlen=MAX_EVENTS)
        self._next_seq = 0
        self._cond = threading.Condition()
        self.outputs: dict[str, str] = {}

    def add(self, kind: str, name: str, value: str, ticks: int | None = None, wall=None):
        with self._cond:
            event = TraceEvent(self._next_seq, time.time(), kind, name, value, ticks, wall)
            self._next_seq += 1
            self._events.append(event)
            if kind == "out":
                self.outputs[name] = value
            self._cond.notify_all()
            return event

    def add_board_line(self, line: str) -> TraceEvent | None:
        """Parse `KIND TICKS WALL NAME VALUE...` as written by boards/sim.py."""
        parts = line.split(" ", 4)
        if len(parts) < 5:
            return None
        kind, ticks, wall, name, value = parts
        try:
            return self.add(kind, name, value, int(ticks), None if wall == "-" else float(wall))
        except ValueError:
            return None

    @property
    def next_seq(self) -> int:
        with self._cond:
            return self._next_seq

    def since(self, seq: int, limit: int = 10_000) -> list[TraceEvent]:
        with self._cond:
            return [e for e in self._events if e.seq >= seq][:limit]

    def wait_for(self, predicate, since: int, timeout: float) -> TraceEvent | None:
        """The first event at or after `since` that satisfies `predicate`, or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self._events:
                    if event.seq >= since and predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                since = self._next_seq
                self._cond.wait(remaining)
