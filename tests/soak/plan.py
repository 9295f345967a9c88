"""What one cycle does, drawn from (seed, cycle) alone, so any cycle can be replayed."""

from __future__ import annotations

import random
from dataclasses import dataclass

# How the power is cut. Weights favour the moments the invariants are about.
CUTS = {
    "random": 3,  # any moment of a press in a dose window
    "dispense": 3,  # while a servo moves
    "append": 2,  # right after the press, while the records go to flash
    "rotation": 2,  # the same, with the log's active segment full
    "install": 2,  # while a schedule push commits
    "logs": 2,  # while `pillctl logs` pulls
}
# What happens to the board before the cut (besides the cut itself).
DISTURBANCES = {
    "none": 20,
    "task_fault": 3,  # a supervised task raises (sim control `fault task`)
    "flash_error": 3,  # the next flash writes fail with ENOSPC or EIO
    "ctrl_c": 1,  # a stray Ctrl-C byte on the serial line
    "mpremote_resume": 1,  # `mpremote connect PORT resume exec ...`
    "mpremote_plain": 1,  # `mpremote connect PORT exec ...`: a soft reset
    "forged_override": 2,  # a schedule.json with an override copied on while off
    "button_overlap": 2,  # an override's hold wait and a dispense.test wait at once
}
# The fake confirmation that comes with a forged override file (soak/forgery.py).
FORGES = ("none", "other_device", "confirmed_txt")
# What the person does while the overlapping waits are open.
OVERLAPS = ("hold", "short_hold", "short")
TASKS = ("serial", "button", "schedule")
# Where an install is cut: its temp file's write, the rename, or the SCHEDULE record.
INSTALL_CUTS = (("write", "schedule.json.tmp"), ("rename", "schedule"), ("write", "log/"))
MEALS = ("breakfast", "lunch", "dinner")


@dataclass(frozen=True)
class Plan:
    seed: int
    cycle: int
    day: int  # days after the schedule's first day
    meal: str  # the dose window the cycle presses in
    minute: int  # minutes after the window opens
    cut: str
    disturbance: str
    delay_ms: float  # when the cut falls after its aiming point
    fill: int  # bytes free in the log's active segment at boot (rotation: just too few)
    tear: int  # 0: the cut tears nothing; else bytes cut off the newest log segment
    task: str
    flash_errno: str
    flash_count: int
    arm_seed: int  # seeds the sim's armed cut: how much of the cut write it keeps
    install_at: tuple[str, str]  # the armed cut of an install: (write|rename, path part)
    forge: str  # forged_override: the fake confirmation (FORGES)
    overlap: str  # button_overlap: the presses (OVERLAPS)
    test_hopper: int  # button_overlap: the hopper dispense.test asks for

    @property
    def replay(self) -> str:
        return f"make soak SEED={self.seed} CYCLE={self.cycle}"


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def make_plan(seed: int, cycle: int) -> Plan:
    rng = random.Random(f"soak:{seed}:{cycle}")
    cut = _pick(rng, CUTS)
    delays = {
        "random": (0, 1600),
        "dispense": (0, 700),  # ramp out, hold, ramp back: about 650 ms per pill
        "append": (0, 800),  # then the next log write is cut: one of the press's appends
        "rotation": (0, 40),
        "install": (0, 60),
        "logs": (0, 400),
    }
    low, high = delays[cut]
    day, meal, minute = rng.randrange(0, 5), rng.choice(MEALS), rng.randrange(1, 30)
    disturbance = _pick(rng, DISTURBANCES)
    if disturbance == "forged_override":
        meal = "lunch"  # the forged file lifts the D3 cap: the cycle presses where D3 is due
    return Plan(
        seed=seed,
        cycle=cycle,
        day=day,
        meal=meal,
        minute=minute,
        cut=cut,
        disturbance=disturbance,
        delay_ms=rng.uniform(low, high),
        fill=rng.randrange(0, 20) if cut == "rotation" else rng.randrange(20, 1500),
        tear=rng.choice((0, 0, rng.randrange(1, 40))),
        task=rng.choice(TASKS),
        flash_errno=rng.choice(("ENOSPC", "EIO")),
        flash_count=rng.randrange(1, 4),
        arm_seed=rng.randrange(2**32),
        install_at=rng.choice(INSTALL_CUTS),
        forge=rng.choice(FORGES),
        overlap=rng.choice(OVERLAPS),
        test_hopper=rng.randrange(3),
    )
