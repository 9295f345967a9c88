"""What a person reads instead of the device's numbers: dose, compartment, supplement and meal
names and local times, from a compiled schedule (docs/device-schedule.md).

Records name doses, items and slots by 16-bit key (`logrec.id_key`) and hoppers by number;
every place a person reads (monitor, CSV export, report, status) turns them back into the
schedule's names here, so they never disagree.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dispenser.core import logrec, nutrients
from pillctl.logfields import ERROR_NAMES, MAINTENANCE_STEPS
from pillctl.schedule import refusal
from pillctl.schedule.units import NUTRIENT_UNITS
from pillctl.selftest import step_names

# The device forms (compiled `form`) as a person says them.
SUPPLEMENTS = {
    "d3": "vitamin D3",
    "mk7": "vitamin K2 (MK-7)",
    "mk4": "vitamin K2 (MK-4)",
    "ca_carbonate": "calcium carbonate",
    "ca_citrate": "calcium citrate",
}


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def slot_label(slot: dict) -> str:
    """A meal by its name; a clock-time slot (id `t0630`) by its time, `06:30`."""
    return slot["id"] if slot.get("meal") else clock_text(slot["at"])


def amount_unit(nutrient: int) -> str:
    """The device unit of a record's nutrient code (IU, mg, µg), `units` for an unknown one."""
    if 0 <= nutrient < len(nutrients.NUTRIENTS):
        return NUTRIENT_UNITS[nutrients.NUTRIENTS[nutrient]]
    return "units"


def zone_of(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a hand-made file's "Europe" is a folder
        return None


class Names:
    """Names of one compiled schedule (an empty schedule dict gives the raw numbers)."""

    def __init__(self, compiled: dict | None) -> None:
        compiled = compiled or {}
        self.tz = compiled.get("tz")
        self.zone = zone_of(self.tz)
        self.slots = {s["id"]: s for s in compiled.get("slots", [])}
        self.comps = {c["id"]: c for c in compiled.get("comp", [])}
        self.by_hopper = {c["hopper"]: c for c in compiled.get("comp", [])}
        self.entries: dict[int, str] = {}
        self.slot_of: dict[str, str] = {}
        self.comp_of = {d["id"]: d["comp"] for d in compiled.get("doses", [])}
        for entry in compiled.get("doses", []) + compiled.get("items", []):
            self.entries[logrec.id_key(entry["id"])] = entry["id"]
            self.slot_of[entry["id"]] = entry["slot"]
        self.item_names = {i["id"]: i.get("name", i["id"]) for i in compiled.get("items", [])}
        self.slot_keys = {logrec.id_key(s): s for s in self.slots}

    def entry(self, key: int) -> str:
        return self.entries.get(key, f"#{key}")

    def slot(self, slot_id: str) -> str:
        slot = self.slots.get(slot_id)
        return slot_label(slot) if slot else slot_id

    def slot_key(self, key: int) -> str:
        slot_id = self.slot_keys.get(key)
        return self.slot(slot_id) if slot_id else f"#{key}"

    def entry_slot(self, entry_id: str) -> str:
        """The meal (or clock time) an entry belongs to."""
        return self.slot(self.slot_of.get(entry_id, ""))

    def supplement(self, comp: dict) -> str:
        form: str = comp.get("form") or ""
        named = SUPPLEMENTS.get(form)
        return named if named is not None else form or str(comp["id"])

    def what(self, entry_id: str) -> str:
        """What a dose gives (`calcium carbonate`) or a reminder-only item's name."""
        comp = self.comps.get(self.comp_of.get(entry_id, ""))
        if comp is not None:
            return self.supplement(comp)
        return self.item_names.get(entry_id, entry_id)

    def hopper(self, hopper: int) -> str:
        """`d3 (vitamin D3)` for a hopper's compartment, `hopper 2` without one."""
        comp = self.by_hopper.get(hopper)
        return f"{comp['id']} ({self.supplement(comp)})" if comp else f"hopper {hopper}"

    def compartment_id(self, hopper: int) -> str:
        comp = self.by_hopper.get(hopper)
        return comp["id"] if comp else f"hopper {hopper}"

    def local(self, t: int | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        """UTC epoch seconds as the schedule's local time (the host's without a schedule)."""
        if not t:
            return "--"
        return datetime.fromtimestamp(t, self.zone).astimezone(self.zone).strftime(fmt)

    def zone_name(self) -> str:
        return self.tz or "host time"

    def describe(self, record: dict) -> dict[str, str]:
        """A record's fields in words: keys to names, hoppers to compartments."""
        out: dict[str, str] = {}
        for name, value in record.items():
            if name in ("seq", "t", "kind"):
                continue
            if name in ("dose", "entry", "item") and isinstance(value, int):
                entry_id = self.entry(value)
                out[name] = entry_id
                if entry_id in self.item_names:  # a reminder-only item: its name as written
                    out["what"] = self.item_names[entry_id]
                if entry_id in self.slot_of:
                    out["meal"] = self.entry_slot(entry_id)
            elif name == "slot" and isinstance(value, int):
                out["meal"] = self.slot_key(value)
            elif name == "hopper_nut" and isinstance(value, int):
                out["compartment"] = self.hopper(logrec.unpack_hopper(value))
            elif name == "hopper" and isinstance(value, int):
                out["compartment"] = self.hopper(value)
            elif name == "amount" and isinstance(record.get("hopper_nut"), int):
                out[name] = f"{value} {amount_unit(logrec.unpack_nutrient(record['hopper_nut']))}"
            elif name == "cause" and record.get("kind") == "boot" and isinstance(value, int):
                causes = logrec.BOOT_CAUSE_NAMES
                out[name] = causes[value] if value < len(causes) else str(value)
            elif name in ("passed", "failed") and record.get("kind") == "selftest":
                out[name] = ",".join(step_names(value)) or "none"
            elif name == "step" and record.get("kind") == "maintenance":
                out[name] = MAINTENANCE_STEPS.get(value, str(value))
            elif name == "code" and record.get("kind") == "error":
                out[name] = ERROR_NAMES.get(value, str(value))
            elif (
                name == "detail"
                and record.get("kind") == "error"
                and record.get("code") == logrec.ERR_SCHEDULE_REJECTED
            ):
                out[name] = refusal.short_name(value)  # which check refused it
            elif name == "reason" and isinstance(value, int):
                names = logrec.REASON_NAMES
                out[name] = str(names[value] if 0 < value < len(names) else value)
            else:
                out[name] = str(value)
        return out

    def line(self, record: dict) -> str:
        """One readable line: local time in the schedule's zone, kind, fields by name."""
        details = " ".join(f"{k}={v}" for k, v in self.describe(record).items())
        return f"{self.local(record.get('t'))}  {record.get('kind', '?'):<10} {details}".rstrip()
