"""The invariants checked after every cycle. Each check returns failures as
(figure, message); the figure is the must-be-0 count it adds to."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from dispenser.core import logrec, nutrients, schedule
from dispenser.schedstore import SCHEDULE_PATH
from pillctl.logfields import KIND_NAMES, as_dict
from soak.doses import Due

Failure = tuple[str, str]
DOUBLE = "soak_double_doses"
UNRECORDED = "soak_unrecorded_doses"
CORRUPT_SCHEDULE = "soak_corrupt_schedules"
DEAD = "soak_dead_boards"
LOG = "soak_log_faults"
UNLOGGED_INSTALL = "soak_unlogged_installs"
OVER_CAP = "soak_over_cap_doses"
MISROUTE = "soak_button_misroutes"
MUST_BE_ZERO = (
    DOUBLE, UNRECORDED, CORRUPT_SCHEDULE, DEAD, LOG, UNLOGGED_INSTALL, OVER_CAP, MISROUTE,
)  # fmt: skip

Record = tuple[int, int, int, tuple]
RESOLVING = (logrec.DISPENSE, logrec.MISSED, logrec.REFUSED)


class LogScan:
    """Every segment of a log folder read as bytes: its records and where garbage lies."""

    def __init__(self, log_dir: Path) -> None:
        self.records: list[Record] = []
        self.garbage: list[tuple[str, int, int]] = []  # (segment, offset, bytes)
        self.segments = sorted(p.name for p in log_dir.glob("*.log"))
        for name in self.segments:
            data = (log_dir / name).read_bytes()
            pos, bad_from = 0, None
            while pos < len(data):
                rec = logrec.decode_at(data, pos, len(data))
                if rec is None:
                    bad_from = pos if bad_from is None else bad_from
                    pos += 1
                    continue
                if bad_from is not None:
                    self.garbage.append((name, bad_from, pos - bad_from))
                    bad_from = None
                self.records.append(rec)
                pos += data[pos]
            if bad_from is not None:
                self.garbage.append((name, bad_from, len(data) - bad_from))
        self.sizes = {name: (log_dir / name).stat().st_size for name in self.segments}

    @property
    def last_seq(self) -> int:
        return max((r[0] for r in self.records), default=0)

    def torn_tail(self) -> int:
        """Bytes of garbage at the very end of the newest segment (0 if none)."""
        if not self.garbage or not self.segments:
            return 0
        name, off, n = self.garbage[-1]
        return n if name == self.segments[-1] and off + n == self.sizes[name] else 0


def check_cut_log(scan: LogScan, known_garbage: int) -> list[Failure]:
    """Right after the cut: garbage only in the newest segment's tail, besides any earlier
    tear the cycle already saw."""
    garbage = sum(n for _, _, n in scan.garbage) - scan.torn_tail()
    if garbage > known_garbage:
        return [(LOG, f"the log has {garbage} corrupt bytes before its tail: {scan.garbage}")]
    if scan.torn_tail() >= logrec.MAX_RECORD:
        return [(LOG, f"a torn tail of {scan.torn_tail()} bytes: more than one record")]
    seqs = [r[0] for r in scan.records]
    if seqs != sorted(set(seqs)):
        return [(LOG, "sequence numbers repeat or go backwards")]
    return []


def check_reboot_log(before: LogScan, after: LogScan) -> list[Failure]:
    """After the boot that followed the cut: nothing readable lost but to rotation, the same
    garbage and no more, and an ERROR record for a torn tail."""
    failures: list[Failure] = []
    first = min((r[0] for r in after.records), default=0)
    kept = {r[0]: r for r in after.records}
    lost = [r for r in before.records if r[0] >= first and kept.get(r[0]) != r]
    if lost:
        failures.append((LOG, f"{len(lost)} records readable before the boot are gone"))
    old, new = sum(n for *_, n in before.garbage), sum(n for *_, n in after.garbage)
    if new > old:
        failures.append((LOG, f"corrupt bytes grew from {old} to {new} without a cut"))
    if before.torn_tail():
        logged = [
            r for r in after.records
            if r[0] > before.last_seq and r[2] == logrec.ERROR
            and r[3][0] == logrec.ERR_LOG_CORRUPT
        ]  # fmt: skip
        if not logged:
            failures.append((LOG, f"a torn tail of {before.torn_tail()} bytes, no ERROR record"))
    return failures


def check_schedule(fs: Path, old: bytes, new: bytes | None, *others: bytes | None) -> list[Failure]:
    """The schedule on flash is the old one or the new one (or one of `others` that the
    cycle put there before the cut), byte for byte."""
    path = fs / SCHEDULE_PATH
    data = path.read_bytes() if path.exists() else b""
    if data in [s for s in (old, new, *others) if s is not None]:
        return []
    return [(CORRUPT_SCHEDULE, f"schedule.json is neither old nor new ({len(data)} bytes)")]


def check_install_logged(fs: Path, new: bytes | None, records: list[Record]) -> list[Failure]:
    """A schedule that is on flash after a cut mid-install has its SCHEDULE record."""
    path = fs / SCHEDULE_PATH
    if new is None or not path.exists() or path.read_bytes() != new:
        return []
    prefix = schedule.parse(new).hash_prefix()
    if any(r[2] == logrec.SCHEDULE and r[3][0] == prefix for r in records):
        return []
    return [(UNLOGGED_INSTALL, "the new schedule is installed but no SCHEDULE record says so")]


def check_doses(
    dues: list[Due], records: list[Record], moves: list[tuple[int, float | None]], since_t: int
) -> list[Failure]:
    """Each due dose: exactly one DISPENSE, MISSED or REFUSED record; no more actuations of
    its hopper in its window than its pills; none without a DISPENSE record."""
    failures: list[Failure] = []
    mine = [r for r in records if r[1] >= since_t and r[2] in RESOLVING]
    for due in dues:
        resolved = [r for r in mine if r[3][0] == due.key and due.opens - 1 <= r[1] <= due.closes]
        kinds = Counter(KIND_NAMES[r[2]] for r in resolved)
        if kinds["dispense"] > 1:
            failures.append((DOUBLE, f"{due.id}: {kinds['dispense']} DISPENSE records"))
        elif not resolved:
            failures.append((UNRECORDED, f"{due.id}: no DISPENSE, MISSED or REFUSED record"))
        elif len(resolved) > 1:
            failures.append((LOG, f"{due.id}: resolved {len(resolved)} times: {dict(kinds)}"))
        in_window = [
            m for m in moves if m[0] == due.hopper and m[1] is not None
            and due.opens <= m[1] <= due.closes
        ]  # fmt: skip
        pills = sum(due.pills for r in resolved if r[2] == logrec.DISPENSE)
        if len(in_window) > due.pills:
            failures.append((DOUBLE, f"{due.id}: hopper {due.hopper} moved {len(in_window)}x"))
        elif len(in_window) > pills:
            failures.append((UNRECORDED, f"{due.id}: the servo moved, the log has no DISPENSE"))
    windows = [(d.hopper, d.opens, d.closes) for d in dues]
    for hopper, wall in moves:
        if wall is None or not any(h == hopper and o <= wall <= c for h, o, c in windows):
            failures.append((UNRECORDED, f"hopper {hopper} moved at {wall}, outside any dose"))
    return failures


def check_pull(history_records: list[dict], flash: list[Record]) -> list[Failure]:
    """A pull interrupted by a cut and resumed: every record once, each as on the flash."""
    seqs = [r["seq"] for r in history_records]
    if seqs != sorted(set(seqs)):
        return [(LOG, "the pulled history repeats or reorders sequence numbers")]
    on_flash = {r[0]: json.loads(json.dumps(as_dict(r))) for r in flash}
    wrong = [r["seq"] for r in history_records if on_flash.get(r["seq"], r) != r]
    if wrong:
        return [(LOG, f"pulled records differ from the flash's: seqs {wrong[:5]}")]
    return []


def check_caps(records: list[Record], since_t: int, day_of, forged: bool) -> list[Failure]:
    """No local day gives more of a nutrient than the firmware's absolute cap (no cycle
    confirms an override that lifts one); a forged override file is logged at its boot."""
    failures: list[Failure] = []
    totals: Counter = Counter()
    for r in records:
        if r[1] >= since_t and r[2] == logrec.DISPENSE:
            totals[(day_of(r[1]), logrec.unpack_nutrient(r[3][1]))] += r[3][3]
    for (day, nut), total in sorted(totals.items()):
        cap = nutrients.ABSOLUTE_CAPS[nut]
        if cap is not None and total > cap:
            name = nutrients.NUTRIENTS[nut]
            failures.append((OVER_CAP, f"day {day}: {total} of {name}, over the cap {cap}"))
    unbound = [
        r for r in records
        if r[1] >= since_t and r[2] == logrec.ERROR and r[3][0] == logrec.ERR_OVERRIDE_UNBOUND
    ]  # fmt: skip
    if forged and not unbound:
        failures.append((OVER_CAP, "a forged override file booted without ERROR 33"))
    return failures
