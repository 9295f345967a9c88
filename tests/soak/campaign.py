"""Runs a seeded campaign over worker processes, each with its own simulated board, and
sums the figures. Cycle i of a seed always does the same thing, whichever worker runs it."""

from __future__ import annotations

import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from pillctl.schedule import compile_file
from pillctl.sim.firmware_image import ROOT
from soak import checks
from soak.cycle import FIRST_DAY, Cycler, CycleResult
from soak.plan import make_plan
from soak.realtime_phase import RealtimeFigures

RESULTS = ROOT / "bench" / "results.json"
SCHEDULE = ROOT / "schedules" / "bone-health.toml"


def schedules(workdir: Path) -> tuple[bytes, bytes]:
    """The installed schedule and the one a push brings: the same doses, other reminders."""
    old = compile_file(SCHEDULE, start=FIRST_DAY)
    variant = workdir / "bone-health-variant.toml"
    variant.write_text(SCHEDULE.read_text().replace("snooze_minutes = 10", "snooze_minutes = 15"))
    new = compile_file(variant, start=FIRST_DAY)
    assert new != old
    return old, new


@dataclass
class Figures:
    cycles: int = 0
    cuts: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(checks.MUST_BE_ZERO, 0))
    recoveries: dict[str, list[float]] = field(default_factory=dict)
    unsupported: dict[str, int] = field(default_factory=dict)
    tears: int = 0
    notes: dict[str, int] = field(default_factory=dict)
    failed: list[CycleResult] = field(default_factory=list)
    seconds: float = 0.0
    realtime: RealtimeFigures | None = None  # the real-time phase, where it ran

    def add(self, result: CycleResult) -> None:
        self.cycles += 1
        self.cuts += result.cuts
        self.tears += 1 if result.tore else 0
        for figure, _ in result.failures:
            self.counts[figure] = self.counts.get(figure, 0) + 1
        for name, seconds in result.recoveries.items():
            self.recoveries.setdefault(name, []).append(seconds)
        for name in result.unsupported:
            self.unsupported[name] = self.unsupported.get(name, 0) + 1
        for note in result.notes:
            self.notes[note] = self.notes.get(note, 0) + 1
        if result.failures:
            self.failed.append(result)

    @property
    def ok(self) -> bool:
        return not any(self.counts.values()) and not (self.realtime and self.realtime.faults)

    def named(self) -> dict[str, tuple[float, str]]:
        """The figures for bench/results.json: name -> (value, unit)."""
        out: dict[str, tuple[float, str]] = {"soak_power_cuts": (self.cuts, "cuts")}
        for figure in checks.MUST_BE_ZERO:
            out[figure] = (self.counts[figure], "count")
        for name, key in (("ctrl_c", "ctrl_c_recovery_s"),
                          ("mpremote_plain", "mpremote_plain_recovery_s"),
                          ("mpremote_resume", "mpremote_resume_recovery_s")):  # fmt: skip
            samples = self.recoveries.get(name)
            if samples:
                out[key] = (round(max(samples), 2), "s (worst)")
        out["soak_torn_writes"] = (self.tears, "cuts")
        out["soak_seconds"] = (round(self.seconds, 1), "s")
        if self.realtime is not None:
            out["soak_realtime_meals"] = (self.realtime.meals, "meals")
            out["soak_realtime_faults"] = (len(self.realtime.faults), "count")
        return out


def describe(result: CycleResult, verbose: bool = False) -> str:
    plan = result.plan
    lines = [
        f"FAILED seed {plan.seed} cycle {plan.cycle} (cut {plan.cut} after "
        f"{plan.delay_ms:.0f} ms, disturbance {plan.disturbance}, {plan.meal} of day "
        f"{plan.day}, torn {result.tore} bytes):"
    ]
    lines += [f"  {figure}: {message}" for figure, message in result.failures]
    if verbose:
        lines += [f"    {line}" for line in result.log]
    lines.append(f"  replay: {plan.replay}")
    return "\n".join(lines)


# Disturbances that wait out a window (mpremote's timeout, the overlap's 10 s test wait):
# such a cycle takes about 10-15 s, the others 2-3 s.
SLOW_DISTURBANCES = ("ctrl_c", "mpremote_resume", "mpremote_plain", "button_overlap")


def _dispatch_order(seed: int, cycles: list[int]) -> list[int]:
    """The long cycles first, so the short ones fill the workers' time at the end."""
    return sorted(cycles, key=lambda c: make_plan(seed, c).disturbance not in SLOW_DISTURBANCES)


def _worker(seed: int, todo, workdir: str, queue) -> None:
    work = Path(workdir)
    # `pillctl logs` draws its progress bar on stderr: keep it out of the campaign's output.
    sys.stderr = open(work / "stderr.log", "w")  # noqa: SIM115 (lives as long as the worker)
    old, new = schedules(work)
    cycler = Cycler(work, old, new)
    try:
        while (cycle := todo.get()) is not None:
            plan = make_plan(seed, cycle)
            try:
                result = cycler.run(plan)
            except Exception:  # a harness error is reported with its cycle, not swallowed
                result = CycleResult(plan, failures=[("harness", traceback.format_exc())])
            queue.put(result)
    finally:
        cycler.close()
        queue.put(None)


def run_campaign(
    seed: int,
    cycles: list[int],
    workers: int,
    workdir: Path | None = None,
    progress=print,
    verbose: bool = False,
) -> Figures:
    figures = Figures()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soak-", dir=workdir) as tmp:
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        workers = max(1, min(workers, len(cycles)))
        # Each worker takes the next cycle when it is free: a cycle depends on (seed, cycle)
        # alone, not on the worker or the cycles before it on that board.
        todo = context.Queue()
        for cycle in _dispatch_order(seed, cycles):
            todo.put(cycle)
        for _ in range(workers):
            todo.put(None)
        procs = [
            context.Process(
                target=_worker,
                args=(seed, todo, str(Path(tmp) / f"w{i}"), queue),
                daemon=True,
            )
            for i in range(workers)
        ]
        for proc in procs:
            (Path(tmp) / f"w{procs.index(proc)}").mkdir()
            proc.start()
        running = workers
        while running:
            result = queue.get()
            if result is None:
                running -= 1
                continue
            figures.add(result)
            if result.failures:
                progress(describe(result, verbose))
            elif figures.cycles % 50 == 0:
                progress(f"{figures.cycles}/{len(cycles)} cycles, {figures.cuts} cuts")
        for proc in procs:
            proc.join(30)
    figures.seconds = time.monotonic() - started
    return figures


def report(figures: Figures, progress=print) -> None:
    for name, (value, unit) in figures.named().items():
        progress(f"{name}: {value} {unit}")
    for name, samples in sorted(figures.recoveries.items()):
        progress(f"  {name} recovery: median {statistics.median(samples):.2f} s, "
                 f"worst {max(samples):.2f} s over {len(samples)}")  # fmt: skip
    for name, n in sorted(figures.notes.items()):
        progress(f"  note: {name} in {n} cycles")
    for name, n in sorted(figures.unsupported.items()):
        progress(f"  NOT EXERCISED: {name} ({n} cycles): the sim here lacks its control request")
    for fault in figures.realtime.faults if figures.realtime else []:
        progress(f"  REAL TIME: {fault}")


def write_results(figures: Figures, path: Path = RESULTS) -> None:
    """Merge the figures into bench/results.json, keeping the other keys."""
    results = json.loads(path.read_text()) if path.exists() else {}
    for name, (value, unit) in figures.named().items():
        results[name] = {"value": value, "unit": unit}
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
