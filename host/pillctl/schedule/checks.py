"""The safety rules (rules.py, docs/safety-rules.md), applied to a parsed schedule.

Each check reports the rule id, the values, the limit and the field path; ``_report`` then
applies the schedule's clinician overrides, so every check treats overrides the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from pillctl.schedule.findings import Finding
from pillctl.schedule.model import EVERY_DAY, Schedule, Slot, clock, weekday_names
from pillctl.schedule.rules import (
    ADULT_AGE,
    CALCIUM_MONITORING_MEDICATIONS,
    CALCIUM_PER_DOSE_MAX_MG,
    ERROR,
    KIDNEY_DISEASE,
    MK4_DAILY_MAX_UG,
    MK4_PER_DOSE_UG,
    OVERRIDDEN,
    RULES,
    VITAMIN_D_UL_IU,
    VITAMIN_K_ANTAGONISTS,
    SpacingRule,
    calcium_ul_mg,
    child_band,
    spacing_kind,
    spacing_rule,
    vitamin_d_rda_iu,
)
from pillctl.schedule.schema import MINUTES_PER_DAY
from pillctl.schedule.totals import DayPlan, dose_amount, dosing_days
from pillctl.schedule.units import CALCIUM, MK4, MK7, VITAMIN_D, format_amount


def medication_windows(schedule: Schedule) -> Iterator[tuple[str, str, Slot | None, int, int, str]]:
    """(kind, name, reminder slot, minutes, weekday mask, path) of every timed medicine: a
    profile medicine at each of its times (no slot: it is taken at that minute), a reminder
    item in its slot's window (taken any time from its early to its late edge). The kind is
    the one spacing is measured by (a named quinolone is its own kind)."""
    for med in schedule.profile.medications:
        for minutes in med.times:
            yield spacing_kind(med.kind, med.name), med.name, None, minutes, med.days, med.path
    for item in schedule.items:
        kind = spacing_kind(item.medication, item.name)
        slot = schedule.slot(item.slot)
        yield kind, item.name, slot, slot.at, item.days, item.path


def _day_shifts(calcium_days: int, med_days: int) -> Iterator[int]:
    """Days the medicine is taken relative to a calcium day (-1: the day before) on which
    both happen, across midnight too."""
    for day_shift in (-1, 0, 1):
        rotated = ((med_days << 7 | med_days) >> (day_shift % 7)) & EVERY_DAY
        if calcium_days & rotated:
            yield day_shift


def _violates(rule: SpacingRule, gap: int, day_shift: int) -> bool:
    if gap >= 0:
        return gap < rule.after
    return -gap < rule.before or (rule.not_earlier_same_day and day_shift == 0)


def _closest_moments(calcium: tuple[int, int], medicine: tuple[int, int]) -> tuple[int, int, int]:
    """(gap, calcium minute, medicine minute) of the two moments, one in each window, that
    come closest: the calcium's early edge after the medicine's late edge, its late edge
    before the medicine's early edge, or a moment both windows share (gap 0). Every spacing
    rule forbids an interval of gaps around 0, so if any pair of moments breaks a rule, the
    closest pair does."""
    earliest = calcium[0] - medicine[1]
    latest = calcium[1] - medicine[0]
    if earliest >= 0:
        return earliest, calcium[0], medicine[1]
    if latest <= 0:
        return latest, calcium[1], medicine[0]
    shared = max(calcium[0], medicine[0])
    return 0, shared, shared


def _edge(minute: int, slot: Slot | None, whose: str) -> str:
    """Which edge of a reminder window `minute` is, when it is not the nominal time."""
    if slot is None or minute == slot.at:
        return ""
    side = "early" if minute < slot.at else "late"
    return f" ({side} edge of {whose} window, nominal {clock(slot.at)})"


class _Checker:
    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.findings: list[Finding] = []
        self.plans = dosing_days(schedule)
        self.dated = any(dose.start or dose.end for dose in schedule.doses)
        self.weekly = any(dose.days != EVERY_DAY for dose in schedule.doses)
        self.medications = {kind for kind, *_ in medication_windows(schedule)} | {
            med.kind for med in schedule.profile.medications
        }
        self.dispensed = {
            schedule.compartment(dose.compartment).nutrient for dose in schedule.doses
        }

    def _report(self, rule_id: str, path: str, message: str, value: str = "", limit: str = ""):
        rule = RULES[rule_id]
        override = self.schedule.override_for(rule_id)
        severity = rule.severity
        if rule.signoff_required and override is None:
            severity = ERROR
            message += "; needs a clinician sign-off: an [[overrides]] entry for this rule"
        elif rule.overridable and override is not None and severity == ERROR:
            severity = OVERRIDDEN
        self.findings.append(
            Finding(
                rule_id,
                severity,
                message,
                path=path,
                value=value or None,
                limit=limit or None,
                source=rule.source,
                override=f"{override.clinician}: {override.reason}" if override else None,
            )
        )

    def _day_name(self, plan: DayPlan) -> str:
        name = plan.day.strftime("%A")
        if self.dated:
            return f"{name} {plan.day.isoformat()}"
        return f"{name}s" if self.weekly else "every day"

    def _paths(self, plan: DayPlan, nutrient: str) -> str:
        return ", ".join(d.path for d in plan.doses if dose_amount(self.schedule, d)[0] == nutrient)

    def _daily_limit(self, rule: str, nutrient: str, limit: int, extra: int = 0, what: str = ""):
        worst = max(self.plans, key=lambda plan: plan.totals.get(nutrient, 0), default=None)
        if worst is None or worst.totals.get(nutrient, 0) + extra <= limit:
            return
        total = worst.totals[nutrient] + extra
        self._report(
            rule,
            self._paths(worst, nutrient),
            f"{what or 'daily'} {format_amount(total, nutrient)} on {self._day_name(worst)}",
            value=format_amount(total, nutrient),
            limit=f"<= {format_amount(limit, nutrient)}/day",
        )

    def run(self) -> list[Finding]:
        profile = self.schedule.profile
        diet = profile.dietary_calcium_mg or 0
        what = f"calcium (dispenser + {diet} mg diet)" if diet else "calcium"
        if profile.age < ADULT_AGE:
            self._report(
                "AGE-ADULT",
                "profile.age",
                "the profile is not an adult's",
                str(profile.age),
                ">= 19",
            )
        self._compartments()
        if profile.age < ADULT_AGE and self.schedule.override_for("AGE-ADULT"):
            vitamin_d_ul, calcium_ul, band = child_band(profile.age)
            self._daily_limit("CHILD-UL", VITAMIN_D, vitamin_d_ul, what=f"vitamin D ({band})")
            self._daily_limit("CHILD-UL", CALCIUM, calcium_ul, diet, f"{what} ({band})")
        else:
            self._daily_limit("D3-UL", VITAMIN_D, VITAMIN_D_UL_IU, what="vitamin D")
            self._daily_limit("CA-UL", CALCIUM, calcium_ul_mg(profile.age), diet, what)
        self._vitamin_d_low()
        self._daily_limit("MK4-MAX", MK4, MK4_DAILY_MAX_UG, what="MK-4")
        self._per_dose()
        self._meal_anchoring()
        self._spacing()
        self._combinations()
        return self.findings

    def _compartments(self) -> None:
        for comp in self.schedule.compartments:
            if comp.supplement != "vitamin-k2":
                continue
            if comp.form is None:
                self._report("K2-FORM", f"{comp.path}.form", 'K2 must say form = "MK-4" or "MK-7"')
            elif comp.form == MK7 and comp.unit == "mg":
                self._report(
                    "K2-FORM",
                    f"{comp.path}.unit",
                    "MK-7 is dosed in µg; a strength in mg is 1000 times a usual dose",
                    value=f"{comp.unit}",
                    limit="µg",
                )
            if self.medications & set(VITAMIN_K_ANTAGONISTS):
                anticoagulant = sorted(self.medications & set(VITAMIN_K_ANTAGONISTS))[0]
                self._report(
                    "K2-VKA",
                    comp.path,
                    f"compartment '{comp.id}' holds K2 while the profile lists {anticoagulant}",
                    value=comp.id,
                    limit="no K2 with a vitamin K antagonist",
                )

    def _vitamin_d_low(self) -> None:
        if VITAMIN_D not in self.dispensed:
            return  # the dispenser cannot judge vitamin D it does not hand out
        rda = vitamin_d_rda_iu(self.schedule.profile.age)
        lowest = min(self.plans, key=lambda plan: plan.totals.get(VITAMIN_D, 0))
        total = lowest.totals.get(VITAMIN_D, 0)
        if total < rda:
            self._report(
                "D3-LOW",
                self._paths(lowest, VITAMIN_D) or "doses",
                f"vitamin D {total} IU on {self._day_name(lowest)} is below the RDA",
                value=f"{total} IU",
                limit=f">= {rda} IU/day",
            )

    def _per_dose(self) -> None:
        """Calcium and MK-4 per intake: all doses of one slot on one day count together."""
        reported: set[tuple[str, str]] = set()
        limits = (
            (CALCIUM, "CA-PER-DOSE", CALCIUM_PER_DOSE_MAX_MG),
            (MK4, "MK4-SPLIT", MK4_PER_DOSE_UG),
        )
        for plan in self.plans:
            per_slot: dict[tuple[str, str], int] = defaultdict(int)
            for dose in plan.doses:
                nutrient, amount = dose_amount(self.schedule, dose)
                per_slot[dose.slot, nutrient or ""] += amount
            for nutrient, rule, limit in limits:
                for (slot, slot_nutrient), amount in per_slot.items():
                    if slot_nutrient != nutrient or amount <= limit or (slot, rule) in reported:
                        continue
                    reported.add((slot, rule))
                    paths = ", ".join(
                        d.path
                        for d in plan.doses
                        if d.slot == slot and dose_amount(self.schedule, d)[0] == nutrient
                    )
                    self._report(
                        rule,
                        paths,
                        f"{format_amount(amount, nutrient)} in one dose at '{slot}'",
                        value=format_amount(amount, nutrient),
                        limit=f"<= {format_amount(limit, nutrient)} per dose",
                    )

    def _meal_anchoring(self) -> None:
        for dose in self.schedule.doses:
            comp = self.schedule.compartment(dose.compartment)
            slot = self.schedule.slot(dose.slot)
            where = f"{clock(slot.at)} ('{slot.id}')"
            if comp.form == "ca_carbonate" and not slot.meal:
                self._report(
                    "CA-CARB-FOOD", dose.path, f"calcium carbonate at {where} is not with a meal"
                )
            if comp.supplement in ("vitamin-d3", "vitamin-k2") and not (slot.meal and slot.fat):
                self._report(
                    "FAT-MEAL",
                    dose.path,
                    f"{comp.id} at {where} is not with a meal that contains fat",
                )
            if comp.nutrient == MK4 and not slot.meal:
                self._report("MK4-SPLIT", dose.path, f"MK-4 at {where} is not taken after a meal")

    def _spacing(self) -> None:
        """Each spacing rule over every moment both can be taken: the calcium dose's whole
        meal window and the medicine's reminder window, in both directions."""
        calcium_doses = [
            dose
            for dose in self.schedule.doses
            if self.schedule.compartment(dose.compartment).nutrient == CALCIUM
        ]
        for kind, name, med_slot, med_at, med_days, med_path in medication_windows(self.schedule):
            rule = spacing_rule(kind)
            if rule is None:
                continue
            med_window = med_slot.window if med_slot else (med_at, med_at)
            for dose in calcium_doses:
                slot = self.schedule.slot(dose.slot)
                breaks = []
                for shift in _day_shifts(dose.days, med_days):
                    offset = shift * MINUTES_PER_DAY
                    moments = (med_window[0] + offset, med_window[1] + offset)
                    gap, calcium_at, med_moment = _closest_moments(slot.window, moments)
                    if _violates(rule, gap, shift):
                        breaks.append((gap, calcium_at, med_moment - offset))
                if not breaks:
                    continue
                gap, calcium_at, med_moment = min(breaks, key=lambda found: abs(found[0]))
                relation = "after" if gap >= 0 else "before"
                meal = f"'{slot.id}'"
                self._report(
                    rule.rule,
                    f"{dose.path}, {med_path}",
                    f"calcium at {clock(calcium_at)}{_edge(calcium_at, slot, meal)} "
                    f"is {abs(gap)} min {relation} {name} at {clock(med_moment)}"
                    f"{_edge(med_moment, med_slot, 'its reminder')} "
                    f"({weekday_names(dose.days & med_days or dose.days)})",
                    value=f"{abs(gap)} min {relation}",
                    limit=rule.limit_text,
                )

    def _combinations(self) -> None:
        if not {VITAMIN_D, CALCIUM} <= self.dispensed:
            return
        monitored = sorted(self.medications & set(CALCIUM_MONITORING_MEDICATIONS))
        if monitored:
            self._report(
                "CA-D3-MONITOR",
                "profile.medications",
                f"D3 + calcium with {', '.join(monitored)}: have serum calcium monitored",
            )
        if KIDNEY_DISEASE in self.schedule.profile.conditions:
            self._report(
                "CKD-CA",
                "profile.conditions",
                "D3 + calcium with chronic kidney disease: calcium-alkali syndrome risk",
            )


def check_schedule(schedule: Schedule) -> list[Finding]:
    """Domain findings of a structurally valid schedule, overrides already applied."""
    return _Checker(schedule).run()
