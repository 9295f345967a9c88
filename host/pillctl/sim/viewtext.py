"""Words for the live sim view: the board's compartments by the schedule's names, a legend
of the LED patterns (dispenser.core.patterns), and what the last press did, read from
the board's own log."""

from __future__ import annotations

import json
from pathlib import Path

from dispenser.logstore import LogStore
from pillctl.logfields import as_dict
from pillctl.names import Names

# What each pattern means (firmware/dispenser/core/patterns.py), for the view and README.
STATUS_LED_LEGEND = (
    ("faint blink every 3 s", "idle, all well"),
    ("blinks once a second", "a dose is due: press the button"),
    ("fast blinking", "a dose is due and the reminder is at its loudest"),
    ("double blink", "clock unknown: run `pillctl time sync`"),
    ("three short flickers", "pressed, but nothing is due now"),
    ("long on, short off", "refused (daily cap, spacing, empty or jammed)"),
    ("slow long blink", "a compartment is running low"),
    ("rapid flicker", "a compartment is jammed (or the log is not read yet)"),
)
COMPARTMENT_LED_LEGEND = (
    ("on", "its dose is due now (fast blinking: loudest reminder)"),
    ("slow long blink", "running low: refill it"),
    ("rapid flicker", "jammed: clear it, then `pillctl refill`"),
)


def board_names(fs: Path) -> Names:
    """The names of the schedule installed on the sim board's flash (numbers without one)."""
    try:
        return Names(json.loads((fs / "schedule.json").read_bytes()))
    except (OSError, ValueError):
        return Names(None)


def output_label(name: str, names: Names) -> str:
    """`servo.0` -> `servo d3`, `led.2` -> `LED ca`, the rest as they are."""
    part, _, index = name.partition(".")
    if index.isdigit() and part in ("servo", "led"):
        return f"{'LED' if part == 'led' else 'servo'} {names.compartment_id(int(index))}"
    return name


def press_outcome(fs: Path, since_t: float, names: Names) -> str | None:
    """What the press at `since_t` (board clock) did, from the records the board logged at
    or after it; None while nothing is logged yet."""
    log = fs / "log"
    if not log.is_dir() or not any(log.iterdir()):
        return None
    records = [as_dict(r) for r in LogStore(str(log)).records() if r[1] >= int(since_t)]
    said = []
    for record in records:
        named = names.describe(record)
        if record["kind"] == "dispense":
            said.append(f"dropped {named.get('compartment')} for {named.get('dose')}")
        elif record["kind"] == "refused":
            said.append(f"refused {named.get('dose')} ({named.get('reason')})")
        elif record["kind"] == "confirm":
            said.append(f"confirmed {named.get('item')}")
        elif record["kind"] == "snooze":
            said.append(f"snoozed the {named.get('meal')} reminder")
    return "; ".join(said) if said else None


def legend_lines() -> list[str]:
    lines = ["status LED: " + "; ".join(f"{how} = {what}" for how, what in STATUS_LED_LEGEND)]
    lines.append(
        "compartment LED: " + "; ".join(f"{how} = {what}" for how, what in COMPARTMENT_LED_LEGEND)
    )
    return lines
