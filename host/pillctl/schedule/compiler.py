"""Compile a validated schedule into the device schedule (docs/device-schedule.md, v1)."""

from __future__ import annotations

from datetime import date

from dispenser.core.schedule import FORMAT_VERSION  # the version the device reads
from pillctl.schedule.hashing import with_hash
from pillctl.schedule.model import Schedule
from pillctl.schedule.rules import spacing_kind, spacing_rule
from pillctl.schedule.totals import daily_maximum
from pillctl.schedule.tzoffsets import utc_offset_table

_EPOCH = date(1970, 1, 1)


def local_day_number(day: date) -> int:
    """Days since 1970-01-01, the device's local day numbering."""
    return (day - _EPOCH).days


def _date_range(start: date | None, end: date | None) -> dict:
    members = {}
    if start is not None:
        members["from"] = local_day_number(start)
    if end is not None:
        members["to"] = local_day_number(end)
    return members


def _spacing(schedule: Schedule) -> list[dict]:
    """Host spacing rules the device re-applies to what was actually taken: calcium waits
    `gap` minutes after the item's confirmation, the item's reminder `wait` minutes after
    calcium was dispensed."""
    entries = []
    for item in schedule.items:
        rule = spacing_rule(spacing_kind(item.medication, item.name))
        if rule is not None:
            entries.append(
                {"rule": rule.rule, "item": item.id, "nut": "ca", "gap": rule.after,
                 "wait": rule.before}
            )  # fmt: skip
    return entries


def _caps(schedule: Schedule) -> dict[str, int]:
    """The planned daily maximum of each nutrient; 0 for one a compartment holds but no dose
    gives, because the device wants a cap for every nutrient it holds."""
    caps = {comp.nutrient: 0 for comp in schedule.compartments if comp.nutrient}
    caps.update(daily_maximum(schedule))
    return caps


def compile_schedule(schedule: Schedule, start: date) -> dict:
    """The device schedule object, without its hash; ``start`` is the compile day."""
    slot_order = {slot.id: index for index, slot in enumerate(schedule.slots)}
    used_slots = {dose.slot for dose in schedule.doses} | {item.slot for item in schedule.items}
    doses = sorted(schedule.doses, key=lambda dose: slot_order[dose.slot])
    items = sorted(schedule.items, key=lambda item: slot_order[item.slot])
    return {
        "v": FORMAT_VERSION,
        "name": schedule.name,
        "tz": schedule.timezone,
        "utc": utc_offset_table(schedule.timezone, start),
        "comp": [
            {
                "id": comp.id,
                "hopper": comp.hopper,
                "nut": comp.nutrient,
                "per": comp.per_pill,
                "form": comp.form,
                "cap": comp.capacity,
                "low": comp.low_stock,
            }
            for comp in schedule.compartments
        ],
        "slots": [
            {
                "id": slot.id,
                "at": slot.at,
                "early": slot.early,
                "late": slot.late,
                "meal": int(slot.meal),
                "fat": int(slot.fat),
            }
            for slot in schedule.slots
            if slot.id in used_slots
        ],
        "doses": [
            {
                "id": dose.id,
                "slot": dose.slot,
                "comp": dose.compartment,
                "pills": dose.pills,
                "days": dose.days,
                **_date_range(dose.start, dose.end),
            }
            for dose in doses
        ],
        "items": [
            {
                "id": item.id,
                "slot": item.slot,
                "name": item.name,
                "med": item.medication,
                "days": item.days,
                **_date_range(item.start, item.end),
            }
            for item in items
        ],
        "spacing": _spacing(schedule),
        "caps": _caps(schedule),
        "remind": {
            "steps": [list(step) for step in schedule.reminders.steps],
            "snooze": schedule.reminders.snooze,
        },
        "ovr": [{"rule": o.rule, "by": o.clinician, "why": o.reason} for o in schedule.overrides],
    }


def compile_to_bytes(schedule: Schedule, start: date) -> bytes:
    """The device file: canonical JSON with its sha256 member."""
    return with_hash(compile_schedule(schedule, start))
