"""What ``show`` presents: a typical day's timeline and daily totals against RDA and UL."""

from __future__ import annotations

from dataclasses import dataclass

from pillctl.schedule.model import EVERY_DAY, Schedule, Slot, weekday_names
from pillctl.schedule.rules import (
    MK4_DAILY_MAX_UG,
    VITAMIN_D_UL_IU,
    calcium_rda_mg,
    calcium_ul_mg,
    vitamin_d_rda_iu,
    vitamin_k_ai_ug,
)
from pillctl.schedule.totals import dose_amount, dosing_days
from pillctl.schedule.units import CALCIUM, MK4, MK7, NUTRIENT_NAMES, VITAMIN_D, format_amount


@dataclass(frozen=True)
class TimelineEntry:
    slot: Slot
    drops: tuple[str, ...]
    """``2 x ca (hopper 2): 500 mg``, with weekdays/dates when not every day."""
    reminders: tuple[str, ...]


@dataclass(frozen=True)
class NutrientTotal:
    nutrient: str
    lowest: int
    highest: int
    reference: str
    """RDA/AI or the labelled dose, as text."""
    limit: int | None


def _when(days: int, start, end) -> str:
    parts = [] if days == EVERY_DAY else [weekday_names(days)]
    if start or end:
        parts.append(f"{start or '…'}..{end or '…'}")
    return f" [{'; '.join(parts)}]" if parts else ""


def timeline(schedule: Schedule) -> list[TimelineEntry]:
    entries = []
    for slot in schedule.slots:
        drops = []
        for dose in schedule.doses:
            if dose.slot != slot.id:
                continue
            comp = schedule.compartment(dose.compartment)
            nutrient, amount = dose_amount(schedule, dose)
            what = format_amount(amount, nutrient) if nutrient else "?"
            drops.append(
                f"{dose.pills} x {comp.id} (hopper {comp.hopper}): {what}"
                f"{_when(dose.days, dose.start, dose.end)}"
            )
        reminders = [
            f"remind: {item.name}{_when(item.days, item.start, item.end)}"
            for item in schedule.items
            if item.slot == slot.id
        ]
        entries.append(TimelineEntry(slot, tuple(drops), tuple(reminders)))
    return entries


def nutrient_totals(schedule: Schedule) -> list[NutrientTotal]:
    plans = dosing_days(schedule)
    profile = schedule.profile
    diet = profile.dietary_calcium_mg or 0
    vitamin_k = vitamin_k_ai_ug(profile.sex)
    references = {
        VITAMIN_D: (f"RDA {vitamin_d_rda_iu(profile.age)} IU", VITAMIN_D_UL_IU),
        CALCIUM: (f"RDA {calcium_rda_mg(profile.age, profile.sex)} mg", calcium_ul_mg(profile.age)),
        MK7: (f"AI (vitamin K) {vitamin_k} µg" if vitamin_k else "AI 90-120 µg", None),
        MK4: ("labelled 45 mg", MK4_DAILY_MAX_UG),
    }
    totals = []
    for nutrient, (reference, limit) in references.items():
        if not any(dose_amount(schedule, d)[0] == nutrient for d in schedule.doses):
            continue
        extra = diet if nutrient == CALCIUM else 0
        amounts = [plan.totals.get(nutrient, 0) + extra for plan in plans]
        totals.append(NutrientTotal(nutrient, min(amounts), max(amounts), reference, limit))
    return totals


def nutrient_label(nutrient: str, with_diet: bool) -> str:
    label = NUTRIENT_NAMES[nutrient]
    return f"{label} incl. diet" if with_diet and nutrient == CALCIUM else label
