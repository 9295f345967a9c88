"""The safety rules: ids, severities, limits and sources (docs/safety-rules.md).

Every domain finding names one of these rules, so a report can always say which published
figure it is enforcing and where that figure comes from. docs/safety-rules.md is checked
against this table by tests/schedule/test_safety_rules_doc.py, so the two cannot drift.
The device's own caps and ceilings come from the firmware (dispenser.core.nutrients).
"""

from __future__ import annotations

from dataclasses import dataclass

from dispenser.core import nutrients

ERROR = "error"
WARNING = "warning"
INFO = "info"
OVERRIDDEN = "overridden"
"""An error-overridable finding that a clinician override in the schedule accepted."""

_SMPC = "calcium + D3 SmPC (Kalcipos-D, medicines.org.uk emc 4481)"
_IOM = "IOM 2011 DRI report, NAP book 13050"


VITAMIN_D_UL_IU = nutrients.ABSOLUTE_CAPS[0]
CALCIUM_UL_MG = nutrients.ABSOLUTE_CAPS[1]  # ages 19-50; 2000 mg from 51 (calcium_ul_mg)
CALCIUM_PER_DOSE_MAX_MG = 500
MK4_DAILY_MAX_UG = nutrients.ABSOLUTE_CAPS[3]
MK4_PER_DOSE_UG = 15000
"""The labelled MK-4 dose: 45 mg/day as three doses of 15 mg after meals."""
ADULT_AGE = 19


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    overridable: bool
    summary: str
    source: str
    signoff_required: bool = False
    """The rule is a warning only when a clinician signed it off in the schedule."""


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("D3-UL", ERROR, True, "daily vitamin D above the UL", f"{_IOM} p.443-445"),
        Rule("D3-LOW", INFO, False, "daily vitamin D below the RDA", f"{_IOM} p.443-445"),
        Rule(
            "CA-UL",
            ERROR,
            True,
            "daily elemental calcium (dispenser + declared diet) above the UL",
            f"{_IOM} p.423",
        ),
        Rule(
            "CA-PER-DOSE",
            WARNING,
            False,
            "absorption falls above 500 mg elemental calcium in one dose",
            "Harvard Women's Health Watch, 2008",
        ),
        Rule(
            "CA-CARB-FOOD",
            WARNING,
            False,
            "calcium carbonate needs stomach acid: take it with food",
            "Harvard Women's Health Watch, 2008",
        ),
        Rule(
            "FAT-MEAL",
            WARNING,
            False,
            "D3 and K2 are fat-soluble: take them with a meal that contains fat",
            "Mulligan & Licata, J Bone Miner Res 2010;25:928; Dawson-Hughes et al., "
            "J Acad Nutr Diet 2015",
        ),
        Rule(
            "K2-VKA",
            ERROR,
            True,
            "vitamin K2 interferes with INR control under a vitamin K antagonist",
            "Theuwissen et al., J Thromb Haemost 2013;11:1085; menatetrenone (Glakay) label",
        ),
        Rule("MK4-MAX", ERROR, True, "MK-4 above its labelled 45 mg/day", "Eisai product FAQ"),
        Rule(
            "MK4-SPLIT",
            WARNING,
            False,
            "MK-4 is labelled as 15 mg three times a day after meals",
            "Eisai product FAQ",
        ),
        Rule(
            "K2-FORM",
            ERROR,
            False,
            "K2 must say MK-4 or MK-7, and MK-7 is dosed in µg",
            "Schurgers et al., Blood 2007;109:3279; Eisai product FAQ",
        ),
        Rule(
            "CA-LEVO",
            ERROR,
            False,
            "keep calcium at least 4 h apart from levothyroxine",
            f"{_SMPC}; Zamfirescu, Thyroid 2011",
        ),
        Rule(
            "CA-TETRA",
            ERROR,
            False,
            "tetracycline at least 2 h before or 4 h after calcium",
            _SMPC,
        ),
        Rule(
            "CA-QUIN",
            ERROR,
            False,
            "quinolone at least 2 h before or 6 h after calcium (ciprofloxacin), 4 h or 8 h "
            "(moxifloxacin), 2 h either way (others)",
            "CIPRO (ciprofloxacin) and Avelox (moxifloxacin) US prescribing information; "
            "calcium carbonate product information (MIMS)",
        ),
        Rule("CA-IRON", WARNING, False, "keep iron and zinc 2 h apart from calcium", _SMPC),
        Rule(
            "CA-BISPHOS",
            WARNING,
            False,
            "the bisphosphonate first after the overnight fast, calcium at least 1 h after it "
            "and not earlier that day",
            f"{_SMPC}; Fosamax (alendronate) and Boniva (ibandronate) US prescribing information",
        ),
        Rule(
            "CA-D3-MONITOR",
            WARNING,
            False,
            "D3 + calcium with a thiazide or digoxin: monitor serum calcium",
            _SMPC,
        ),
        Rule(
            "CKD-CA",
            WARNING,
            True,
            "D3 + calcium with chronic kidney disease risks calcium-alkali syndrome",
            f"{_IOM} p.423",
            signoff_required=True,
        ),
        Rule(
            "AGE-ADULT",
            ERROR,
            True,
            "the dispenser's reference intakes are for adults (19+)",
            f"{_IOM} p.443-445",
        ),
        Rule(
            "CHILD-UL",
            ERROR,
            True,
            "with AGE-ADULT overridden, vitamin D and calcium stay under the age band's UL",
            f"{_IOM}, Tables S-1 and S-2",
        ),
    )
}


THRESHOLDS = {
    "D3-UL": f"daily vitamin D > {VITAMIN_D_UL_IU} IU (all doses of any one day)",
    "D3-LOW": "daily vitamin D < 600 IU (19-70 y), < 800 IU (over 70 y)",
    "CA-UL": f"daily elemental calcium, dispenser plus declared diet, > {CALCIUM_UL_MG} mg "
    "(19-50 y), > 2000 mg (51 y and over)",
    "CA-PER-DOSE": f"> {CALCIUM_PER_DOSE_MAX_MG} mg elemental calcium in one intake",
    "CA-CARB-FOOD": "a calcium carbonate dose not anchored to a meal",
    "FAT-MEAL": "a D3 or K2 dose not with a meal marked contains_fat",
    "K2-VKA": "any K2 while the profile lists warfarin or another vitamin K antagonist",
    "MK4-MAX": f"MK-4 > {MK4_DAILY_MAX_UG // 1000} mg a day",
    "MK4-SPLIT": f"MK-4 > {MK4_PER_DOSE_UG // 1000} mg in one intake, or not after a meal",
    "K2-FORM": "a K2 compartment that does not say MK-4 or MK-7, or MK-7 in mg",
    "CA-LEVO": "calcium < 4 h before or after levothyroxine",
    "CA-TETRA": "tetracycline < 2 h before or < 4 h after calcium",
    "CA-QUIN": "ciprofloxacin < 2 h before or < 6 h after calcium; moxifloxacin < 4 h before "
    "or < 8 h after; any other quinolone < 2 h either way",
    "CA-IRON": "iron, zinc or strontium < 2 h from calcium",
    "CA-BISPHOS": "calcium < 1 h after a bisphosphonate, or earlier the same day before it",
    "CA-D3-MONITOR": "D3 and calcium while the profile lists a thiazide or digoxin",
    "CKD-CA": "D3 and calcium with chronic kidney disease (an error without a clinician's "
    "sign-off)",
    "AGE-ADULT": f"profile age < {ADULT_AGE}",
    "CHILD-UL": "with AGE-ADULT overridden: vitamin D or calcium above the age band's upper "
    "limit (table below)",
}
"""When each rule fires, as docs/safety-rules.md says (that table is generated from these)."""


@dataclass(frozen=True)
class SpacingRule:
    """Calcium must come ``after`` minutes after the medicine and ``before`` minutes before it;
    with ``not_earlier_same_day`` it may not come before the medicine on the same day at all."""

    rule: str
    medications: tuple[str, ...]
    after: int
    before: int
    not_earlier_same_day: bool = False

    @property
    def limit_text(self) -> str:
        text = f">= {self.after} min after"
        if self.not_earlier_same_day:
            return f"{text}, not earlier the same day"
        return f"{text}, >= {self.before} min before" if self.before else text


SPACING_RULES = (
    SpacingRule("CA-LEVO", ("levothyroxine",), after=240, before=240),
    SpacingRule("CA-TETRA", ("tetracycline",), after=120, before=240),
    SpacingRule("CA-QUIN", ("ciprofloxacin",), after=120, before=360),
    SpacingRule("CA-QUIN", ("moxifloxacin",), after=240, before=480),
    SpacingRule("CA-QUIN", ("quinolone", "levofloxacin", "ofloxacin"), after=120, before=120),
    SpacingRule("CA-IRON", ("iron", "zinc", "strontium"), after=120, before=120),
    SpacingRule("CA-BISPHOS", ("bisphosphonate",), after=60, before=0, not_earlier_same_day=True),
)
"""The interaction table as minimum gaps either side of a calcium dose. A quinolone is
measured by its own rule when its kind or name says which one (``spacing_kind``)."""

QUINOLONES = ("ciprofloxacin", "moxifloxacin", "levofloxacin", "ofloxacin")


def spacing_kind(kind: str, name: str) -> str:
    """The medication a spacing rule measures: a named quinolone gets its own windows."""
    if kind == "quinolone" and name.strip().lower() in QUINOLONES:
        return name.strip().lower()
    return kind


def spacing_rule(kind: str) -> SpacingRule | None:
    return next((rule for rule in SPACING_RULES if kind in rule.medications), None)


VITAMIN_K_ANTAGONISTS = ("warfarin", "vitamin-k-antagonist")
CALCIUM_MONITORING_MEDICATIONS = ("thiazide", "digoxin")
KIDNEY_DISEASE = "chronic-kidney-disease"


def vitamin_d_rda_iu(age: int) -> int:
    return 800 if age > 70 else 600


def calcium_ul_mg(age: int) -> int:
    return 2000 if age >= 51 else CALCIUM_UL_MG


CHILD_BANDS = (
    # (ages up to, vitamin D UL in IU, calcium UL in mg, band); IOM 2011 Tables S-1/S-2.
    # A profile gives whole years, so age 0 takes the stricter 0-6 months band.
    (0, 1000, 1000, "0-6 months"),
    (3, 2500, 2500, "1-3 y"),
    (8, 3000, 2500, "4-8 y"),
    (18, 4000, 3000, "9-18 y"),
)
"""Upper limits by age band below 19; the 6-12 months band (1500 IU, 1500 mg) cannot be
told apart from 0-6 months by a whole-year age, so it is not used."""


def child_band(age: int) -> tuple[int, int, str]:
    """(vitamin D UL, calcium UL, band name) of a child's age (under ADULT_AGE)."""
    for upto, vitamin_d, calcium, band in CHILD_BANDS:
        if age <= upto:
            return vitamin_d, calcium, band
    raise ValueError(f"age {age} is not a child's")


def calcium_rda_mg(age: int, sex: str | None) -> int:
    """1000 mg to 50; 51-70 women 1200, men 1000 (unknown sex: the higher); over 70 1200."""
    if age <= 50 or (age <= 70 and sex == "male"):
        return 1000
    return 1200


def vitamin_k_ai_ug(sex: str | None) -> int | None:
    return {"male": 120, "female": 90}.get(sex or "")
