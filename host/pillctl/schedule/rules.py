"""The rule table of ``shared/domain/supplement-rules.md``: ids, severities, limits, sources.

Every domain finding names one of these rules, so a report can always say which published
figure it is enforcing and where that figure comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
INFO = "info"
OVERRIDDEN = "overridden"
"""An error-overridable finding that a clinician override in the schedule accepted."""

_SMPC = "calcium + D3 SmPC (Kalcipos-D, medicines.org.uk emc 4481)"
_IOM = "IOM 2011 DRI report, NAP book 13050"


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
            "keep quinolones 2 h apart from calcium",
            "calcium carbonate product information (MIMS)",
        ),
        Rule("CA-IRON", WARNING, False, "keep iron and zinc 2 h apart from calcium", _SMPC),
        Rule(
            "CA-BISPHOS",
            WARNING,
            False,
            "take bisphosphonates at least 1 h before calcium",
            _SMPC,
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
    )
}


@dataclass(frozen=True)
class SpacingRule:
    """Calcium must come ``after`` minutes after the medicine and ``before`` minutes before it."""

    rule: str
    medications: tuple[str, ...]
    after: int
    before: int

    @property
    def limit_text(self) -> str:
        text = f">= {self.after} min after"
        return f"{text}, >= {self.before} min before" if self.before else text


SPACING_RULES = (
    SpacingRule("CA-LEVO", ("levothyroxine",), after=240, before=240),
    SpacingRule("CA-TETRA", ("tetracycline",), after=120, before=240),
    SpacingRule("CA-QUIN", ("quinolone",), after=120, before=120),
    SpacingRule("CA-IRON", ("iron", "zinc", "strontium"), after=120, before=120),
    SpacingRule("CA-BISPHOS", ("bisphosphonate",), after=60, before=0),
)
"""The interaction table of the rules file as minimum gaps either side of a calcium dose."""

VITAMIN_K_ANTAGONISTS = ("warfarin", "vitamin-k-antagonist")
CALCIUM_MONITORING_MEDICATIONS = ("thiazide", "digoxin")
KIDNEY_DISEASE = "chronic-kidney-disease"

VITAMIN_D_UL_IU = 4000
CALCIUM_PER_DOSE_MAX_MG = 500
MK4_DAILY_MAX_UG = 45000
MK4_PER_DOSE_UG = 15000
"""The labelled MK-4 dose: 45 mg/day as three doses of 15 mg after meals."""
ADULT_AGE = 19


def vitamin_d_rda_iu(age: int) -> int:
    return 800 if age > 70 else 600


def calcium_ul_mg(age: int) -> int:
    return 2000 if age >= 51 else 2500


def calcium_rda_mg(age: int, sex: str | None) -> int:
    """1000 mg to 50; 51-70 women 1200, men 1000 (unknown sex: the higher); over 70 1200."""
    if age <= 50 or (age <= 70 and sex == "male"):
        return 1000
    return 1200


def vitamin_k_ai_ug(sex: str | None) -> int | None:
    return {"male": 120, "female": 90}.get(sex or "")
