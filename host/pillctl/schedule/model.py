"""The validated schedule as plain frozen dataclasses.

Every object keeps ``path``, the dotted location of its table in the TOML file, so domain
findings can point at the field a person has to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = 0b1111111
"""Weekday bitmask, Monday = bit 0 ... Sunday = bit 6, as on the device."""


def runs_on(days: int, day: date) -> bool:
    return bool(days >> day.weekday() & 1)


def in_range(start: date | None, end: date | None, day: date) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekday_names(days: int) -> str:
    if days == EVERY_DAY:
        return "daily"
    return ",".join(name for bit, name in enumerate(WEEKDAYS) if days >> bit & 1)


@dataclass(frozen=True)
class Medication:
    kind: str
    name: str
    times: tuple[int, ...]
    """Usual times, minutes after local midnight; empty where no rule needs a time."""
    days: int
    path: str


@dataclass(frozen=True)
class Profile:
    age: int
    sex: str | None
    dietary_calcium_mg: int | None
    conditions: tuple[str, ...]
    medications: tuple[Medication, ...]


@dataclass(frozen=True)
class Slot:
    """A reminder window: a meal, or a clock time that doses or items are anchored to."""

    id: str
    at: int
    early: int
    late: int
    meal: bool
    fat: bool
    path: str

    @property
    def window(self) -> tuple[int, int]:
        return self.at - self.early, self.at + self.late


@dataclass(frozen=True)
class Compartment:
    id: str
    hopper: int
    supplement: str
    form: str | None
    """Device form (``d3``, ``mk7``, ``mk4``, ``ca_carbonate``, ``ca_citrate``)."""
    nutrient: str | None
    per_pill: int | None
    """Amount per pill in the nutrient's device unit; None when form or unit is unusable."""
    unit: str
    capacity: int
    low_stock: int
    path: str


@dataclass(frozen=True)
class Dose:
    id: str
    compartment: str
    pills: int
    slot: str
    days: int
    start: date | None
    end: date | None
    path: str

    def active_on(self, day: date) -> bool:
        return runs_on(self.days, day) and in_range(self.start, self.end, day)


@dataclass(frozen=True)
class ReminderItem:
    """A medicine the dispenser does not hold: reminded, confirmed and logged."""

    id: str
    name: str
    medication: str
    slot: str
    days: int
    start: date | None
    end: date | None
    path: str


@dataclass(frozen=True)
class Reminders:
    steps: tuple[tuple[int, int], ...]
    """(minutes after the reminder starts, level 1..3)."""
    snooze: int


@dataclass(frozen=True)
class Override:
    rule: str
    clinician: str
    reason: str
    path: str


@dataclass(frozen=True)
class Schedule:
    name: str
    timezone: str
    profile: Profile
    slots: tuple[Slot, ...]
    """Meals and clock-time slots, sorted by time."""
    compartments: tuple[Compartment, ...]
    doses: tuple[Dose, ...]
    items: tuple[ReminderItem, ...]
    reminders: Reminders
    overrides: tuple[Override, ...]

    def slot(self, slot_id: str) -> Slot:
        return next(slot for slot in self.slots if slot.id == slot_id)

    def compartment(self, compartment_id: str) -> Compartment:
        return next(comp for comp in self.compartments if comp.id == compartment_id)

    def override_for(self, rule_id: str) -> Override | None:
        return next((o for o in self.overrides if o.rule == rule_id), None)
