"""Turn a TOML document into a ``Schedule``: structure, types, references and time windows.

The TOML layout is documented in docs/schedule-format.md. Safety rules are not checked here
(see checks.py); this module only makes sure the file means something definite.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from dispenser.core import schedule as device
from pillctl.schedule.findings import Finding
from pillctl.schedule.model import (
    EVERY_DAY,
    Compartment,
    Dose,
    Medication,
    Override,
    Profile,
    ReminderItem,
    Reminders,
    Schedule,
    Slot,
    clock,
)
from pillctl.schedule.rules import QUINOLONES, RULES
from pillctl.schedule.schema import (
    MINUTES_PER_DAY,
    SchemaReader,
    child,
    printable_name,
    unprintable,
)
from pillctl.schedule.units import DEFAULT_FORMS, FORMS, normalise_unit, to_device_units

CONDITIONS = ("chronic-kidney-disease",)
TIMED_MEDICATIONS = (
    "levothyroxine",
    "tetracycline",
    "quinolone",
    *QUINOLONES,
    "iron",
    "zinc",
    "strontium",
    "bisphosphonate",
)
"""Medications a spacing rule measures from, so their usual time is required."""
MEDICATIONS = (*TIMED_MEDICATIONS, "warfarin", "vitamin-k-antagonist", "thiazide", "digoxin")

REMINDER_LEVELS = {"light": 1, "sound": 2, "loud": 3}
DEFAULT_REMINDERS = Reminders(steps=((0, 1), (10, 2), (20, 3)), snooze=10)
CLOCK_SLOT_EARLY = 15
CLOCK_SLOT_LATE = 60
"""Default window of a dose or item anchored to a clock time rather than a meal."""
MAX_ID_LENGTH = device.MAX_ID_LEN
MAX_NAME_BYTES = device.MAX_NAME_BYTES
_NOT_PLACES = ("localtime", "Factory", "posixrules")
"""tzdata entries that name no place: the compiling machine's zone, a placeholder, a rule
template. ``posix/`` and ``right/`` copies (the latter counts leap seconds) are left out too."""


@cache
def iana_zones() -> frozenset[str]:
    return frozenset(
        zone
        for zone in available_timezones()
        if zone not in _NOT_PLACES and not zone.startswith(("posix/", "right/"))
    )


_DEVICE_HOLDS = " (what the dispenser holds)"
_MAX_TIMES = 24
_MAX_TABLES = 64
"""Meals, compartments and medications beyond any real schedule: refused before any check."""


def _default_name(stem: str) -> str:
    """The file name as a schedule name the device takes: printable, at most 64 bytes of
    UTF-8 (cut between characters)."""
    name = "".join("_" if unprintable(c) else c for c in stem)
    while len(name.encode()) > MAX_NAME_BYTES:
        name = name[:-1]
    return name if printable_name(name) else "schedule"


_TOP_KEYS = (
    "name",
    "timezone",
    "profile",
    "meals",
    "compartments",
    "doses",
    "reminder_items",
    "reminders",
    "overrides",
)
_ANCHOR_KEYS = ("meal", "at", "early_minutes", "late_minutes", "days", "start", "end")


def clock_slot_id(minutes: int) -> str:
    return "t" + clock(minutes).replace(":", "")


class _ScheduleParser:
    def __init__(self, document: dict, default_name: str):
        self.read = SchemaReader()
        self.document = document
        self.default_name = _default_name(default_name)
        self.slots: dict[str, Slot] = {}
        self.used_ids: dict[str, str] = {}
        self.broken: set[str] = set()
        """Meal names and compartment ids of tables that have their own errors: entries
        that refer to them are not reported again."""

    def parse(self) -> tuple[Schedule | None, list[Finding]]:
        doc = self.read.table(self.document, "", _TOP_KEYS)
        if doc is None:
            return None, self.read.findings
        name = self.read.text(doc, "name", "", self.default_name, MAX_NAME_BYTES, "name")
        timezone = self._timezone(doc)
        profile = self._profile(doc)
        self._meals(doc)
        compartments = self._compartments(doc)
        doses = self._doses(doc, {comp.id for comp in compartments})
        items = self._items(doc)
        self._check_windows()
        reminders = self._reminders(doc)
        overrides = self._overrides(doc)
        if not doses and not items and not self.read.findings:
            self.read.error("doses", "the schedule has no [[doses]] and no [[reminder_items]]")
        if self.read.findings or profile is None or name is None:
            return None, self.read.findings
        slots = tuple(sorted(self.slots.values(), key=lambda slot: slot.at))
        schedule = Schedule(
            name, timezone, profile, slots, compartments, doses, items, reminders, overrides
        )
        return schedule, []

    def _timezone(self, doc: dict) -> str:
        name = self.read.text(doc, "timezone", "")
        if name is not None and name not in iana_zones():
            self.read.error(
                "timezone", 'unknown IANA timezone; name a place, e.g. "Europe/Berlin"', name
            )
            return ""
        return name or ""

    def _profile(self, doc: dict) -> Profile | None:
        keys = ("age", "sex", "dietary_calcium_mg", "conditions", "medications")
        if "profile" not in doc:
            if "profile" not in self.read.misspelt:
                self.read.error("profile", "missing required table [profile]")
            return None
        table = self.read.table(doc["profile"], "profile", keys)
        if table is None:
            return None
        age = self.read.integer(table, "age", "profile", 0, 130)
        sex = self.read.choice(table, "sex", "profile", ("female", "male"), None)
        diet = self.read.integer(table, "dietary_calcium_mg", "profile", 0, 10000, None)
        conditions = self.read.string_list(table, "conditions", "profile", CONDITIONS)
        medications = []
        med_keys = ("kind", "name", "at")
        for path, med in self.read.tables(table, "medications", "profile", med_keys, _MAX_TABLES):
            kind = self.read.choice(med, "kind", path, MEDICATIONS)
            times = self._medication_times(med, path, kind)
            if kind is not None and times is not None:
                name = self.read.text(med, "name", path, kind, MAX_NAME_BYTES, "name")
                medications.append(Medication(kind, name or kind, times, EVERY_DAY, path))
        if age is None:
            return None
        return Profile(age, sex, diet, conditions, tuple(medications))

    def _medication_times(self, med: dict, path: str, kind: str | None) -> tuple[int, ...] | None:
        value = med.get("at")
        here = child(path, "at")
        if value is None:
            if kind in TIMED_MEDICATIONS:
                self.read.error(here, f'{kind} needs its usual time, e.g. at = "06:30"')
                return None
            return ()
        values = value if isinstance(value, list) else [value]
        if not values:
            self.read.error(here, 'an empty array is no time; give one, e.g. at = "06:30"')
            return None
        if len(values) > _MAX_TIMES:
            self.read.error(here, f"{len(values)} times; at most {_MAX_TIMES} a day")
            return None
        times = [self.read.clock_time(v, child(here, i)) for i, v in enumerate(values)]
        if None in times:
            return None
        return tuple(t for t in times if t is not None)

    def _claim_id(self, kind: str, ident: str, path: str) -> None:
        key = f"{kind}:{ident}"
        if key in self.used_ids:
            self.read.error(path, f"duplicate {kind} id '{ident}' (also at {self.used_ids[key]})")
        else:
            self.used_ids[key] = path

    def _meals(self, doc: dict) -> None:
        keys = ("name", "at", "early_minutes", "late_minutes", "contains_fat")
        for path, meal in self.read.tables(doc, "meals", "", keys, _MAX_TABLES):
            name = self.read.text(meal, "name", path, max_length=MAX_ID_LENGTH, charset="id")
            at = self._time_field(meal, path)
            early = self.read.integer(meal, "early_minutes", path, 0, 240, 30)
            late = self.read.integer(meal, "late_minutes", path, 0, 240, 90)
            fat = self.read.boolean(meal, "contains_fat", path)
            if name is None or at is None or early is None or late is None or fat is None:
                self.broken.add(f"meal:{meal.get('name')}")
                continue
            self._claim_id("slot", name, child(path, "name"))
            self.slots.setdefault(name, Slot(name, at, early, late, True, fat, path))

    def _time_field(self, table: dict, path: str) -> int | None:
        if "at" not in table:
            self.read.error(child(path, "at"), "missing required field 'at'")
            return None
        return self.read.clock_time(table["at"], child(path, "at"))

    def _compartments(self, doc: dict) -> tuple[Compartment, ...]:
        keys = ("id", "hopper", "supplement", "form", "strength", "unit", "capacity", "low_stock")
        compartments = []
        for path, table in self.read.tables(doc, "compartments", "", keys, _MAX_TABLES):
            ident = self.read.text(table, "id", path, max_length=MAX_ID_LENGTH, charset="id")
            hopper = self.read.integer(table, "hopper", path, 0, 2)
            supplement = self.read.choice(table, "supplement", path, tuple(FORMS))
            strength = self.read.amount(table, "strength", path)
            unit = self.read.text(table, "unit", path)
            capacity = self.read.integer(table, "capacity", path, 1, 1000)
            low = self.read.integer(table, "low_stock", path, 0, 1000)
            if (
                ident is None
                or hopper is None
                or supplement is None
                or strength is None
                or unit is None
                or capacity is None
                or low is None
            ):
                self.broken.add(f"compartment:{table.get('id')}")
                continue
            self._claim_id("compartment", ident, child(path, "id"))
            self._claim_id("hopper", str(hopper), child(path, "hopper"))
            if low >= capacity:
                self.read.error(child(path, "low_stock"), f"must be below capacity {capacity}", low)
            form, nutrient = self._form(table, path, supplement)
            per_pill = self._per_pill(path, strength, unit, nutrient)
            compartments.append(
                Compartment(
                    ident, hopper, supplement, form, nutrient, per_pill, unit, capacity, low, path
                )
            )
        return tuple(sorted(compartments, key=lambda comp: comp.hopper))

    def _form(self, table: dict, path: str, supplement: str) -> tuple[str | None, str | None]:
        """Device form and nutrient; (None, None) for a K2 without a known form (K2-FORM)."""
        forms = FORMS[supplement]
        name = table.get("form", DEFAULT_FORMS.get(supplement))
        if isinstance(name, str) and name in forms:
            return forms[name]
        if supplement == "vitamin-k2" and (name is None or isinstance(name, str)):
            return None, None
        if name is None:
            self.read.error(
                child(path, "form"), f"missing required field 'form' ({', '.join(forms)})"
            )
        else:
            self.read.error(
                child(path, "form"),
                f"unknown form for {supplement}; expected one of {', '.join(forms)}",
                name,
            )
        return None, None

    def _per_pill(self, path: str, strength: Any, unit: str, nutrient: str | None) -> int | None:
        if nutrient is None:
            return None
        try:
            exact = to_device_units(strength, nutrient, unit)
        except KeyError:
            self.read.error(
                child(path, "unit"), f"unit '{unit}' does not apply to this supplement", unit
            )
            return None
        if exact.denominator != 1:
            self.read.error(
                child(path, "strength"),
                f"{strength} {normalise_unit(unit)} is not a whole number of device units "
                f"({float(exact):g})",
            )
            return None
        return int(exact)

    def _anchor(self, table: dict, path: str) -> str | None:
        """The slot id a dose or item is anchored to: a meal, or a clock-time slot."""
        meal, at = table.get("meal"), table.get("at")
        if (meal is None) == (at is None):
            self.read.error(path, "give exactly one of 'meal' or 'at' (a clock time)")
            return None
        if meal is not None:
            if not isinstance(meal, str):
                self.read.error(child(path, "meal"), "expected a meal name (a string)", meal)
                return None
            if f"meal:{meal}" in self.broken or "meals" in self.read.misspelt:
                return None  # its own error is reported already
            if meal not in self.slots or not self.slots[meal].meal:
                known = ", ".join(s.id for s in self.slots.values() if s.meal) or "none"
                self.read.error(child(path, "meal"), f"no meal named '{meal}' (meals: {known})")
                return None
            return meal
        minutes = self.read.clock_time(at, child(path, "at"))
        early = self.read.integer(table, "early_minutes", path, 0, 240, CLOCK_SLOT_EARLY)
        late = self.read.integer(table, "late_minutes", path, 0, 240, CLOCK_SLOT_LATE)
        if minutes is None or early is None or late is None:
            return None
        slot = Slot(clock_slot_id(minutes), minutes, early, late, False, False, path)
        existing = self.slots.setdefault(slot.id, slot)
        if (existing.early, existing.late, existing.meal) != (early, late, False):
            self.read.error(path, f"another entry at {clock(minutes)} has a different window")
            return None
        return slot.id

    def _dated(self, table: dict, path: str):
        start = self.read.local_date(table, "start", path)
        end = self.read.local_date(table, "end", path)
        if start and end and end < start:
            self.read.error(child(path, "end"), f"ends before it starts ({start})", end.isoformat())
        return self.read.weekdays(table, "days", path), start, end

    def _doses(self, doc: dict, compartment_ids: set[str]) -> tuple[Dose, ...]:
        keys = ("id", "compartment", "pills", *_ANCHOR_KEYS)
        doses = []
        limit = device.MAX_DOSES
        for path, table in self.read.tables(doc, "doses", "", keys, limit, _DEVICE_HOLDS):
            comp = self.read.text(table, "compartment", path)
            pills = self.read.integer(table, "pills", path, 1, 10)
            slot = self._anchor(table, path)
            days, start, end = self._dated(table, path)
            if comp is not None and comp not in compartment_ids:
                if f"compartment:{comp}" in self.broken or "compartments" in self.read.misspelt:
                    continue
                known = ", ".join(sorted(compartment_ids)) or "none"
                self.read.error(
                    child(path, "compartment"),
                    f"no compartment '{comp}' (compartments: {known})",
                )
                continue
            if comp is None or pills is None or slot is None or days is None:
                continue
            ident = self.read.text(
                table, "id", path, f"{comp}-{slot}"[:MAX_ID_LENGTH], MAX_ID_LENGTH, "id"
            )
            if ident is not None:
                self._claim_id("dose or item", ident, path)
                doses.append(Dose(ident, comp, pills, slot, days, start, end, path))
        return tuple(doses)

    def _items(self, doc: dict) -> tuple[ReminderItem, ...]:
        keys = ("id", "name", "medication", *_ANCHOR_KEYS)
        items = []
        limit = device.MAX_ITEMS
        for path, table in self.read.tables(doc, "reminder_items", "", keys, limit, _DEVICE_HOLDS):
            ident = self.read.text(table, "id", path, max_length=MAX_ID_LENGTH, charset="id")
            medication = self.read.choice(table, "medication", path, MEDICATIONS)
            name = self.read.text(table, "name", path, medication, MAX_NAME_BYTES, "name")
            slot = self._anchor(table, path)
            days, start, end = self._dated(table, path)
            if ident is None or medication is None or name is None or slot is None or days is None:
                continue
            self._claim_id("dose or item", ident, child(path, "id"))
            items.append(ReminderItem(ident, name, medication, slot, days, start, end, path))
        return tuple(items)

    def _check_windows(self) -> None:
        """Windows stay within one local day and never overlap (docs/device-schedule.md)."""
        ordered = sorted(self.slots.values(), key=lambda slot: slot.window)
        for slot in ordered:
            first, last = slot.window
            if first < 0 or last >= MINUTES_PER_DAY:
                self.read.error(
                    slot.path,
                    f"window {clock(max(first, 0))}..{clock(min(last, 1439))} of '{slot.id}' "
                    "crosses midnight; shorten early_minutes or late_minutes",
                )
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after.window[0] <= before.window[1]:
                self.read.error(
                    after.path,
                    f"window of '{after.id}' ({clock(after.window[0])}..) overlaps '{before.id}' "
                    f"(..{clock(before.window[1])})",
                )

    def _reminders(self, doc: dict) -> Reminders:
        if "reminders" not in doc:
            return DEFAULT_REMINDERS
        table = self.read.table(doc["reminders"], "reminders", ("steps", "snooze_minutes"))
        if table is None:
            return DEFAULT_REMINDERS
        snooze = self.read.integer(
            table, "snooze_minutes", "reminders", 1, 120, DEFAULT_REMINDERS.snooze
        )
        steps = []
        for path, step in self.read.tables(table, "steps", "reminders", ("after_minutes", "level")):
            after = self.read.integer(step, "after_minutes", path, 0, 240)
            level = self.read.choice(step, "level", path, tuple(REMINDER_LEVELS))
            if after is not None and level is not None:
                steps.append((after, REMINDER_LEVELS[level]))
        if "steps" not in table:
            return Reminders(DEFAULT_REMINDERS.steps, snooze or DEFAULT_REMINDERS.snooze)
        minutes = [after for after, _ in steps]
        if not steps or minutes[0] != 0 or minutes != sorted(set(minutes)):
            self.read.error(
                "reminders.steps", "steps start at after_minutes = 0 and go strictly up"
            )
        return Reminders(tuple(steps), snooze or DEFAULT_REMINDERS.snooze)

    def _overrides(self, doc: dict) -> tuple[Override, ...]:
        overrides = []
        keys = ("rule", "clinician", "reason")
        for path, table in self.read.tables(doc, "overrides", "", keys, _MAX_TABLES):
            rule = self.read.text(table, "rule", path)
            clinician = self.read.text(
                table, "clinician", path, max_length=device.MAX_SIGNER_LEN, charset="text"
            )
            reason = self.read.text(
                table, "reason", path, max_length=device.MAX_REASON_LEN, charset="text"
            )
            if rule is not None and (rule not in RULES or not RULES[rule].overridable):
                allowed = ", ".join(r.id for r in RULES.values() if r.overridable)
                self.read.error(
                    child(path, "rule"), f"rule cannot be overridden; overridable: {allowed}", rule
                )
                continue
            if rule is not None and clinician is not None and reason is not None:
                self._claim_id("override", rule, child(path, "rule"))
                overrides.append(Override(rule, clinician, reason, path))
        return tuple(overrides)


def parse_schedule(document: dict, default_name: str) -> tuple[Schedule | None, list[Finding]]:
    """The schedule, or None and the SCHEMA findings that prevent building one."""
    return _ScheduleParser(document, default_name).parse()
