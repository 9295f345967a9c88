"""One cycle: a fresh board in a dose window, a disturbance, a power cut aimed by the plan,
the reboot, the day's end and the next breakfast; checked after the cut and at the end."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from dispenser.core import logrec
from pillctl.commands.logs import pull
from pillctl.device import Device
from pillctl.errors import PillctlError
from pillctl.logfields import KIND_NAMES
from soak import checks, forgery, injections
from soak.doses import DayPlan
from soak.plan import Plan
from soak.rig import Rig

DISTURB = {**injections.DISTURB, **forgery.DISTURB}
FIRST_DAY = date(2026, 11, 30)  # the schedules' compile day; the campaign's days follow
DAY_S = 86400


@dataclass
class CycleResult:
    plan: Plan
    failures: list[checks.Failure] = field(default_factory=list)
    cuts: int = 0
    recoveries: dict[str, float] = field(default_factory=dict)
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # the cycle's records, kept when it failed
    tore: int = 0
    seconds: float = 0.0


class Cycler:
    """Runs cycles on one rig; `old` and `new` are two compiled schedules."""

    def __init__(self, workdir: Path, old: bytes, new: bytes) -> None:
        self.workdir = workdir
        self.old, self.new = old, new
        self.days = DayPlan(old)
        self.rig = Rig(workdir, old)
        self.rig.start()

    def close(self) -> None:
        self.rig.stop()

    def run(self, plan: Plan) -> CycleResult:
        result = CycleResult(plan)
        started = time.monotonic()
        try:
            self._run(plan, result)
        finally:
            self.rig.disconnect()
            self.rig.cut()
            result.seconds = time.monotonic() - started
        return result

    def _run(self, plan: Plan, result: CycleResult) -> None:
        rig = self.rig
        midnight = int(datetime(*FIRST_DAY.timetuple()[:3], tzinfo=UTC).timestamp())
        midnight += plan.day * DAY_S
        dues = self.days.doses(midnight)
        tomorrow = self.days.doses(midnight + DAY_S)
        rig.fresh_flash(midnight + 3 * 3600, plan.fill)
        trace_start = rig.runner.trace.next_seq
        out = injections.Outcome()

        rig.power_on()
        if rig.wait_hello() is None:
            result.failures.append((checks.DEAD, rig.silent("after a clean power-on")))
            return
        opens = min(d.opens for d in dues if d.slot == plan.meal)
        rig.step_to(opens + plan.minute * 60)

        DISTURB[plan.disturbance](rig, plan, out)
        result.failures += [(checks.MISROUTE, m) for m in out.misroutes]
        result.failures += [(checks.OVER_CAP, m) for m in out.over_cap]
        result.unsupported += out.unsupported
        result.recoveries.update(out.recoveries)
        result.notes += out.notes
        if out.dead:
            result.failures.append((checks.DEAD, out.dead))
            return

        if plan.cut == "install":
            injections.cut_install(rig, plan, out, self.new)
        elif plan.cut == "logs":
            shutil.rmtree(self.workdir / "history", ignore_errors=True)  # a fresh log each cycle
            injections.cut_logs(rig, plan, out, self.workdir / "history")
        elif plan.cut == "dispense":
            injections.cut_dispense(rig, plan, out)
        elif plan.cut == "random":
            injections.cut_random(rig, plan, out)
        else:  # append, rotation (the plan's fill makes the press rotate the log)
            injections.cut_append(rig, plan, out)
        result.cuts += 1
        result.tore = self._tear(plan, out)

        log_dir = rig.log_path()
        cut_scan = checks.LogScan(log_dir)
        result.failures += checks.check_cut_log(cut_scan, 0)
        result.failures += checks.check_schedule(
            rig.fs, self.old, out.pushed, out.forged, out.overlap
        )

        rig.power_on()
        if rig.wait_hello() is None:
            result.failures.append((checks.DEAD, rig.silent("after the cut")))
            return
        if out.pull is not None:
            self._finish_pull(out, result)
        # The day ends (what was not taken is missed); the next breakfast still dispenses.
        breakfast = [d for d in tomorrow if d.slot == "breakfast"]
        rig.step_to(breakfast[0].opens + 5 * 60)
        since = rig.press()
        dispensed = rig.wait_servos_idle(since, [d.hopper for d in breakfast])
        rig.disconnect()
        rig.cut()
        final = checks.LogScan(log_dir)
        if not dispensed:
            result.failures.append((checks.DEAD, "the next breakfast did not dispense"))
        result.failures += checks.check_reboot_log(cut_scan, final)
        moves = rig.servo_moves(trace_start)
        result.failures += checks.check_doses(dues + breakfast, final.records, moves, midnight)
        result.failures += checks.check_install_logged(rig.fs, out.pushed, final.records)
        forged = out.forged is not None
        result.failures += checks.check_caps(final.records, midnight, self.days.day_of, forged)
        if out.pull is not None:
            history = out.pull["history"]
            result.failures += checks.check_pull(history.records(), final.records)
        if result.failures:
            result.log = [
                f"{r[0]} {r[1]} {KIND_NAMES[r[2]]} {r[3]}"
                for r in final.records if r[1] >= midnight or r[2] == logrec.BOOT
            ]  # fmt: skip
            result.log += [f"servo {h} at {wall}" for h, wall in moves]

    def _finish_pull(self, out: injections.Outcome, result: CycleResult) -> None:
        """Run `pillctl logs` again after the cut: it resumes where the cut stopped it."""
        assert out.pull is not None
        self.rig.disconnect()
        try:
            with Device(self.rig.runner.port, timeout=5.0) as device:
                pull(device, out.pull["history"])
        except PillctlError as exc:
            result.failures.append((checks.LOG, f"the pull after the cut failed: {exc}"))

    def _tear(self, plan: Plan, out: injections.Outcome) -> int:
        """Model a write cut short: only an append that may have been in flight at the cut
        (the log grew since the aiming point and no servo has moved since, so no record that
        a servo move depends on) loses up to `plan.tear` bytes of its end."""
        if injections.can_tear(self.rig):
            # The sim tore it itself if an armed cut landed: `write PATH OFFSET KEPT SIZE`.
            cuts = [
                e.value.split() for e in self.rig.runner.trace.since(out.aimed_seq, 1_000_000)
                if e.kind == "sim" and e.name == "cut" and e.value.startswith("write")
            ]  # fmt: skip
            return max(1, int(cuts[-1][3])) if cuts else 0
        if not plan.tear or self.rig.servo_moves(out.aimed_seq):
            return 0
        log_dir = self.rig.log_path()
        name, size = injections.newest_segment(log_dir)
        aimed_name, aimed_size = out.aimed_log
        grown = size - (aimed_size if name == aimed_name else 0)
        if grown <= 0:
            return 0
        n = min(plan.tear, grown, _record_len(log_dir / name) or grown)
        with open(log_dir / name, "r+b") as f:
            f.truncate(size - n)
        return n


def _record_len(path: Path) -> int:
    """Length of the last whole record in a segment (0 if none)."""
    data = path.read_bytes()
    pos, last = 0, 0
    while pos < len(data):
        if logrec.decode_at(data, pos, len(data)) is None:
            pos += 1
            continue
        last = data[pos]
        pos += last
    return last
