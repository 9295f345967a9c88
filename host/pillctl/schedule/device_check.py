"""The device's own verdict on a compiled schedule, as located findings.

The firmware's check (``dispenser.core.schedule.parse``) is the one the dispenser runs before it
installs a schedule. ``pillctl`` runs the very same code on what it compiled, so whatever the
host accepts the device accepts, and a refusal is reported at the host, with its place in
the file, instead of after a push.
"""

from __future__ import annotations

import json

from dispenser.core import schedule as device
from pillctl.schedule.findings import DEVICE_RULE, Finding
from pillctl.schedule.model import Schedule
from pillctl.schedule.refusal import explain
from pillctl.schedule.rules import ERROR

# The device schedule's lists and members, by the TOML section a person edits.
_SECTIONS = {
    "comp": "compartments",
    "slots": "meals",
    "doses": "doses",
    "items": "reminder_items",
    "ovr": "overrides",
    "caps": "doses",
    "spacing": "reminder_items",
    "remind": "reminders",
}


def _where(schedule: Schedule, data: bytes, refusal: device.ScheduleError) -> str:
    """The TOML path of what the firmware refused: the entry its error's path names (found
    by the id the compiled schedule holds there), else the section."""
    path = refusal.path
    if not path:
        return ""
    section = path[0]
    if len(path) > 1 and isinstance(path[1], int):
        if section == "ovr":
            return f"overrides[{path[1]}]"
        entries = {
            "comp": schedule.compartments,
            "slots": schedule.slots,
            "doses": schedule.doses,
            "items": schedule.items,
        }.get(section, ())
        try:
            entry_id = json.loads(data)[section][path[1]].get("id")
        except (ValueError, LookupError, AttributeError):
            entry_id = None
        for entry in entries:
            if entry.id == entry_id:
                return entry.path
    if section == "doses" and not schedule.doses:
        return "reminder_items"
    return _SECTIONS.get(section, "")


def device_findings(schedule: Schedule, data: bytes) -> list[Finding]:
    """[] when the firmware accepts ``data``, else one finding saying why it would not."""
    try:
        device.parse(data)
    except device.ScheduleError as refusal:
        return [
            Finding(
                DEVICE_RULE,
                ERROR,
                f"the dispenser would refuse this schedule: {explain(refusal, data)}",
                path=_where(schedule, data, refusal),
            )
        ]
    return []
