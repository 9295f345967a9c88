"""The device's own verdict on a compiled schedule, as located findings.

The firmware's check (``dispenser.schedule.parse``) is the one the dispenser runs before it
installs a schedule. ``pillctl`` runs the very same code on what it compiled, so whatever the
host accepts the device accepts, and a refusal is reported at the host, with its place in
the file, instead of after a push.
"""

from __future__ import annotations

from dispenser import schedule as device
from pillctl.schedule.findings import DEVICE_RULE, Finding
from pillctl.schedule.model import Schedule
from pillctl.schedule.rules import ERROR

_CODE_PATHS = {
    device.E_CEILING: "doses",
    device.E_CAP: "doses",
    device.E_HOPPER: "compartments",
    device.E_NUTRIENT: "compartments",
}


def _where(schedule: Schedule, message: str, code: int) -> str:
    """The path of the entry the firmware's message names (it ends with the id), else the
    section its error code is about."""
    named = message.rsplit(" ", 1)[-1]
    entries = (*schedule.doses, *schedule.items, *schedule.compartments, *schedule.slots)
    for entry in entries:
        if entry.id == named:
            return entry.path
    if "doses" in message or "items" in message:
        return "doses" if schedule.doses else "reminder_items"
    if "overrides" in message or message.startswith(("by ", "why ")):
        return "overrides"
    return _CODE_PATHS.get(code, "")


def device_findings(schedule: Schedule, data: bytes) -> list[Finding]:
    """[] when the firmware accepts ``data``, else one finding saying why it would not."""
    try:
        device.parse(data)
    except device.ScheduleError as refusal:
        return [
            Finding(
                DEVICE_RULE,
                ERROR,
                f"the dispenser would refuse this schedule: {refusal}",
                path=_where(schedule, str(refusal), refusal.code),
            )
        ]
    return []
